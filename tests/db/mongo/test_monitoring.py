"""The Mongo command listener, fed pymongo's own event objects (no server needed)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pymongo.monitoring import CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent

from app.core.metrics.prometheus import prometheus
from app.db.mongo.monitoring import NO_COLLECTION, CommandMetricsListener

ADDRESS = ("mongo.example", 27017)


def histogram(command: str, collection: str) -> tuple[float, float]:
    labels = {"command": command, "collection": collection}
    count = prometheus.registry.get_sample_value("db_mongo_command_duration_seconds_count", labels)
    total = prometheus.registry.get_sample_value("db_mongo_command_duration_seconds_sum", labels)
    return count or 0.0, total or 0.0


def started(command: dict[str, Any], request_id: int) -> CommandStartedEvent:
    return CommandStartedEvent(command, "appdb", request_id, ADDRESS, request_id)


def succeeded(name: str, request_id: int, ms: int) -> CommandSucceededEvent:
    return CommandSucceededEvent(
        timedelta(milliseconds=ms), {"ok": 1}, name, request_id, ADDRESS, request_id
    )


def failed(name: str, request_id: int, ms: int) -> CommandFailedEvent:
    failure = {"ok": 0, "code": 11000, "codeName": "DuplicateKey", "errmsg": "dup key: secret"}
    return CommandFailedEvent(
        timedelta(milliseconds=ms), failure, name, request_id, ADDRESS, request_id
    )


@pytest.fixture
def collection() -> str:
    return f"c_{uuid.uuid4().hex[:8]}"


def test_a_succeeded_command_is_observed_by_command_and_collection(collection: str) -> None:
    listener = CommandMetricsListener()
    listener.started(started({"find": collection, "filter": {"a": 1}}, 1))
    listener.started(started({"insert": collection, "documents": [{}]}, 2))
    listener.succeeded(succeeded("insert", 2, ms=4))
    listener.succeeded(succeeded("find", 1, ms=25))

    assert histogram("find", collection) == (1, pytest.approx(0.025))
    assert histogram("insert", collection) == (1, pytest.approx(0.004))


def test_a_failed_command_is_observed_and_logged_without_its_message(
    collection: str, caplog: pytest.LogCaptureFixture
) -> None:
    listener = CommandMetricsListener()
    listener.started(started({"insert": collection, "documents": [{}]}, 7))
    with caplog.at_level(logging.WARNING, logger="app.db.mongo"):
        listener.failed(failed("insert", 7, ms=3))

    assert histogram("insert", collection) == (1, pytest.approx(0.003))
    (record,) = [r for r in caplog.records if r.getMessage() == "mongo_command_failed"]
    assert record.code_name == "DuplicateKey"  # type: ignore[attr-defined]
    assert record.collection == collection  # type: ignore[attr-defined]
    assert "secret" not in str(vars(record))


def test_get_more_uses_its_collection_field_and_commands_without_one_share_a_label(
    collection: str,
) -> None:
    listener = CommandMetricsListener()
    before = histogram("ping", NO_COLLECTION)[0]
    listener.started(started({"getMore": 123456789, "collection": collection}, 3))
    listener.started(started({"ping": 1}, 4))
    listener.started(started({"saslStart": 1, "payload": b"x"}, 5))  # pymongo blanks it
    listener.succeeded(succeeded("getMore", 3, ms=1))
    listener.succeeded(succeeded("ping", 4, ms=1))
    listener.succeeded(succeeded("saslStart", 5, ms=1))

    assert histogram("getMore", collection)[0] == 1
    assert histogram("ping", NO_COLLECTION)[0] - before == 1
    assert histogram("saslStart", NO_COLLECTION)[0] >= 1


def test_pending_commands_are_bounded(collection: str) -> None:
    listener = CommandMetricsListener(max_pending=10)
    for request_id in range(100):
        listener.started(started({"find": collection}, request_id))
    listener.succeeded(succeeded("find", 99, ms=1))  # still known: the newest are kept
    listener.succeeded(succeeded("find", 0, ms=1))  # forgotten: observed without collection

    assert histogram("find", collection)[0] == 1
    assert len(listener._collections) == 9
