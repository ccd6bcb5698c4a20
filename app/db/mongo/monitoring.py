"""pymongo CommandListener observing db_mongo_command_duration_seconds.

pymongo reports a command's duration on its succeeded/failed event, but the collection
only on the started one (the command document's first value; `collection` for
getMore). The listener remembers the collection per (connection, request id) between
the two; the map is bounded in case a started event is never followed by an outcome.
Commands without a collection (ping, hello, endSessions...) get `NO_COLLECTION`.
"""

from __future__ import annotations

from pymongo import monitoring

from app.core.logger import get_logger
from app.core.metrics.global_metrics import db_mongo_command_duration

NO_COLLECTION = "<none>"
MAX_PENDING = 10_000

logger = get_logger("app.db.mongo")

_PendingKey = tuple[object, int]


def command_collection(event: monitoring.CommandStartedEvent) -> str:
    """The collection a command addresses, or NO_COLLECTION."""
    command = event.command
    if not command:  # pymongo blanks sensitive commands (auth)
        return NO_COLLECTION
    if event.command_name == "getMore":
        target = command.get("collection")
    else:
        target = command.get(event.command_name)
    return target if isinstance(target, str) and target else NO_COLLECTION


class CommandMetricsListener(monitoring.CommandListener):
    """Times every MongoDB command by command name and collection."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._collections: dict[_PendingKey, str] = {}
        self._max_pending = max_pending

    def _key(
        self,
        event: monitoring.CommandStartedEvent
        | monitoring.CommandSucceededEvent
        | monitoring.CommandFailedEvent,
    ) -> _PendingKey:
        return (event.connection_id, event.request_id)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if len(self._collections) >= self._max_pending:
            self._collections.pop(next(iter(self._collections)))  # the oldest
        self._collections[self._key(event)] = command_collection(event)

    def _observe(
        self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent
    ) -> str:
        collection = self._collections.pop(self._key(event), NO_COLLECTION)
        db_mongo_command_duration.labels(event.command_name, collection).observe(
            event.duration_micros / 1_000_000
        )
        return collection

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._observe(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        collection = self._observe(event)
        failure = event.failure if isinstance(event.failure, dict) else {}
        logger.warning(
            "mongo_command_failed",
            extra={
                "command": event.command_name,
                "collection": collection,
                "code": failure.get("code"),
                "code_name": failure.get("codeName"),
            },
        )
