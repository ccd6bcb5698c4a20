"""Batched random identifiers: well formed, unique across refills and across a fork."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable

import pytest

from app.core.random_ids import BATCH, new_request_id, new_token_id


def test_request_ids_are_uuid4_strings() -> None:
    generated = uuid.UUID(new_request_id())
    assert generated.version == 4
    assert generated.variant == uuid.RFC_4122


def test_token_ids_are_128_bits_of_hex() -> None:
    token_id = new_token_id()
    assert len(token_id) == 32
    assert int(token_id, 16) >= 0


@pytest.mark.parametrize("new_id", [new_request_id, new_token_id])
def test_ids_stay_unique_across_refills_of_the_batch(new_id: Callable[[], str]) -> None:
    ids = [new_id() for _ in range(4 * BATCH)]  # several refills
    assert len(set(ids)) == 4 * BATCH


@pytest.mark.parametrize("new_id", [new_request_id, new_token_id])
def test_a_forked_worker_does_not_repeat_the_parents_ids(new_id: Callable[[], str]) -> None:
    new_id()  # the batch now holds bytes the child would inherit
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about forking with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report its next ID and leave at once
        os.write(write_end, new_id().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child_id = pipe.read().decode()
    assert child_id
    assert child_id != new_id()
