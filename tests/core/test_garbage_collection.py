"""The startup heap is frozen while the app serves, and given back when it stops."""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx

from app.core.garbage_collection import YOUNG_GENERATION_THRESHOLD, frozen_startup_heap


def test_freezes_the_heap_and_restores_the_collector_after() -> None:
    before = gc.get_threshold()
    with frozen_startup_heap():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        survivor = [object()]  # made after the freeze: collected as usual
        assert gc.is_tracked(survivor)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_cycles_made_while_serving_are_still_collected() -> None:
    class Node:
        partner: object

    with frozen_startup_heap():
        gc.collect()
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        del first, second
        assert gc.collect() >= 2


async def test_the_app_serves_with_its_startup_heap_frozen(
    make_client: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]],
) -> None:
    async with make_client() as client:
        assert (await client.get("/health")).status_code == 200
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
    assert gc.get_freeze_count() == 0
