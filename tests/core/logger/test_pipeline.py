"""The logging pipeline: JSON fields, destinations, rotation, flushing, context, safety."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from app.core.config import Settings
from app.core.logger import (
    MAX_BYTES,
    ContextQueueHandler,
    configure_logging,
    get_logger,
    log_fields,
    redact,
    request_id_ctx,
    stop_logger,
    user_id_ctx,
)
from app.core.logger.pipeline import _pipeline
from app.core.logger.redaction import MAX_SCRUB_CHARS
from app.core.logger.slots import worker_slot

SPEC_FIELDS = {"timestamp", "message", "level", "logger", "module", "function", "line"}


@pytest.fixture(autouse=True)
def _release_logging() -> Iterator[None]:
    yield
    stop_logger()


@pytest.fixture
def log_dir(make_settings: Callable[..., Settings], tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    configure_logging(make_settings(LOG_DIR=directory))
    return directory


def records(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of `path`, after flushing the pipeline."""
    stop_logger()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def marked(path: Path, marker: str) -> list[dict[str, Any]]:
    return [record for record in records(path) if record["message"] == marker]


def test_a_record_is_one_json_line_with_exactly_the_spec_fields(log_dir: Path) -> None:
    logger = get_logger("app.tests.fields")
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    logger.info("fields_event", extra={"attempt": 2, "to": "a@example.com"})

    (record,) = marked(log_dir / "app.json", "fields_event")
    assert set(record) == SPEC_FIELDS | {"extra"}
    assert record["level"] == "INFO"
    assert record["logger"] == "app.tests.fields"
    assert record["module"] == "test_pipeline"
    assert record["function"] == "test_a_record_is_one_json_line_with_exactly_the_spec_fields"
    assert record["line"] == line
    assert record["extra"] == {"attempt": 2, "to": "a@example.com"}
    stamp = datetime.fromisoformat(record["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_request_and_user_ids_are_snapshotted_when_the_call_is_made(log_dir: Path) -> None:
    logger = get_logger("app.tests.context")
    logger.info("without_context")
    request_token = request_id_ctx.set("req-123")
    user_token = user_id_ctx.set("user-456")
    logger.info("with_context")
    request_id_ctx.reset(request_token)  # before the listener thread formats the record
    user_id_ctx.reset(user_token)

    (plain,) = marked(log_dir / "app.json", "without_context")
    (scoped,) = marked(log_dir / "app.json", "with_context")
    assert set(plain) == SPEC_FIELDS
    assert (scoped["request_id"], scoped["user_id"]) == ("req-123", "user-456")


async def test_concurrent_tasks_keep_their_own_request_id(log_dir: Path) -> None:
    logger = get_logger("app.tests.tasks")

    async def handle(request_id: str) -> None:
        request_id_ctx.set(request_id)
        for step in range(5):
            logger.info("task_step", extra={"expected": request_id, "step": step})
            await asyncio.sleep(0)

    await asyncio.gather(*(handle(f"req-{n}") for n in range(50)))

    lines = marked(log_dir / "app.json", "task_step")
    assert len(lines) == 250
    assert all(line["request_id"] == line["extra"]["expected"] for line in lines)


def test_levels_go_to_their_files(log_dir: Path) -> None:
    logger = get_logger("app.tests.levels")
    for level in ("debug", "info", "warning", "error", "critical"):
        getattr(logger, level)(f"level_{level}")

    def levels(name: str) -> list[str]:
        return [r["level"] for r in records(log_dir / name) if r["logger"] == "app.tests.levels"]

    assert levels("app.json") == ["INFO", "WARNING", "ERROR", "CRITICAL"]
    assert levels("error.json") == ["ERROR", "CRITICAL"]


def test_exception_carries_the_traceback(log_dir: Path) -> None:
    logger = get_logger("app.tests.exception")
    try:
        raise ValueError("broken on purpose")
    except ValueError:
        logger.exception("exception_event")

    (record,) = marked(log_dir / "error.json", "exception_event")
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: broken on purpose" in record["exception"]


def test_files_rotate_at_the_size_limit_keeping_five_backups(log_dir: Path) -> None:
    logger = get_logger("app.tests.rotation")
    # A quarter of a file per record, in fields short enough that redaction keeps them whole.
    piece = "x" * (MAX_SCRUB_CHARS // 2)
    chunk = {f"c{i}": piece for i in range(MAX_BYTES // 4 // len(piece))}
    count = 21  # 3 records fill a file (a 4th would pass the limit): 7 files' worth
    for n in range(count):
        logger.info("rotation_event", extra={"n": n, **chunk})
    stop_logger()

    files = sorted(log_dir.glob("app.json*"))
    assert [f.name for f in files] == ["app.json", *(f"app.json.{n}" for n in range(1, 6))]
    assert all(f.stat().st_size <= MAX_BYTES for f in files)
    kept = [r["extra"]["n"] for f in files for r in records(f) if r["message"] == "rotation_event"]
    # Each file holds 3 chunks (4 would pass the limit); the newest 18 records are kept.
    assert sorted(kept) == list(range(count - 18, count))
    assert (log_dir / "app.json.1").stat().st_size > MAX_BYTES * 3 // 4


def test_stop_flushes_every_record_logged_under_concurrent_load(log_dir: Path) -> None:
    logger = get_logger("app.tests.load")
    threads, per_thread = 8, 2_000
    start = threading.Barrier(threads)

    def hammer(worker: int) -> None:
        start.wait()
        for n in range(per_thread):
            logger.info("load_event", extra={"worker": worker, "n": n})

    pool = [threading.Thread(target=hammer, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    stop_logger()  # no wait: stopping must drain the queue itself

    lines = marked(log_dir / "app.json", "load_event")
    assert len(lines) == threads * per_thread
    assert len({(r["extra"]["worker"], r["extra"]["n"]) for r in lines}) == threads * per_thread


def test_stop_is_safe_twice_and_a_later_record_is_still_written(log_dir: Path) -> None:
    logger = get_logger("app.tests.stop")
    logger.info("before_stop")
    stop_logger()
    stop_logger()
    logger.info("after_stop")

    names = [r["message"] for r in records(log_dir / "app.json")]
    assert names.index("before_stop") < names.index("after_stop")


def test_setup_is_idempotent_and_retargets_without_leaking_threads(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    configure_logging(make_settings(LOG_DIR=first))
    threads_before = threading.active_count()
    for _ in range(5):
        configure_logging(make_settings(LOG_DIR=first))
        get_logger("app.tests.idempotent")
    get_logger("app.tests.idempotent").info("to_first")
    configure_logging(make_settings(LOG_DIR=second))
    get_logger("app.tests.idempotent").info("to_second")

    ours = [h for h in logging.getLogger().handlers if isinstance(h, ContextQueueHandler)]
    assert len(ours) == 1
    assert threading.active_count() == threads_before
    assert [r["message"] for r in marked(first / "app.json", "to_first")] == ["to_first"]
    assert marked(first / "app.json", "to_second") == []
    assert len(marked(second / "app.json", "to_second")) == 1


def test_library_loggers_share_the_pipeline_without_sql_echo(log_dir: Path) -> None:
    uvicorn_handler = logging.StreamHandler()
    logging.getLogger("uvicorn.error").addHandler(uvicorn_handler)  # as uvicorn's dictConfig does
    logging.getLogger("uvicorn.error").propagate = False
    configure_logging(Settings(_env_file=None, LOG_DIR=log_dir, ENVIRONMENT="test"))  # type: ignore[call-arg]

    logging.getLogger("uvicorn.error").info("uvicorn_line")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT secret_column FROM t")
    logging.getLogger("sqlalchemy.pool").warning("pool_warning")

    lines = records(log_dir / "app.json")
    assert ("uvicorn.error", "uvicorn_line") in {(r["logger"], r["message"]) for r in lines}
    assert ("sqlalchemy.pool", "pool_warning") in {(r["logger"], r["message"]) for r in lines}
    assert not any("secret_column" in r["message"] for r in lines)
    assert uvicorn_handler not in logging.getLogger("uvicorn.error").handlers


def test_uvicorn_access_log_stays_off_when_uvicorn_turned_it_off(log_dir: Path) -> None:
    access = logging.getLogger("uvicorn.access")
    access.handlers = []  # what uvicorn does for access_log=False
    access.propagate = False
    try:
        configure_logging(Settings(_env_file=None, LOG_DIR=log_dir, ENVIRONMENT="test"))  # type: ignore[call-arg]
        assert not access.hasHandlers()  # uvicorn then skips its access log entirely
        access.info("uvicorn_access_line", extra={"color_message": "\x1b[1mline\x1b[0m"})
        logging.getLogger("uvicorn.error").info("started", extra={"color_message": "x"})
        lines = records(log_dir / "app.json")
        assert "uvicorn_access_line" not in {r["message"] for r in lines}
        (started,) = [r for r in lines if r["message"] == "started"]
        assert "extra" not in started
    finally:
        access.propagate = True


def test_secrets_never_reach_the_files(log_dir: Path) -> None:
    secrets = ["hunter2", "tok-abc", "s3cr3t", "Bearer-value-123", "sid-999", "key-777", "raw-888"]
    get_logger("app.tests.redaction").warning(
        "login_attempt token=tok-abc",
        extra={
            "password": "hunter2",
            "email": "a@example.com",
            "nested": {"refresh_token": "tok-abc", "items": [{"client_secret": "s3cr3t"}]},
            "headers": {"Authorization": "Bearer Bearer-value-123", "Cookie": "sid=sid-999"},
            "raw_headers": [(b"authorization", b"Bearer raw-888"), (b"accept", b"*/*")],
            "note": "sent with Authorization: Bearer Bearer-value-123",
            "API-Key": "key-777",
        },
    )
    text = (log_dir / "app.json").read_text() if records(log_dir / "app.json") else ""
    for secret in secrets:
        assert secret not in text
    (record,) = marked(log_dir / "app.json", "login_attempt token=[REDACTED]")
    extra = record["extra"]
    assert extra["password"] == "[REDACTED]"
    assert extra["email"] == "a@example.com"
    assert extra["nested"]["refresh_token"] == "[REDACTED]"
    assert extra["nested"]["items"] == [{"client_secret": "[REDACTED]"}]
    assert extra["headers"] == {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]"}
    assert extra["raw_headers"][1] == ["accept", "*/*"]


def test_redact_covers_every_shape_of_structured_data() -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    long_note = "x" * 200 + " password=hunter2"
    value = {
        "token": "t-1",
        b"cookie": "sid=1",
        7: "seven",
        "short": "api_key=k-1",
        "long": long_note,
        "plain": [1, 2.5, True, None],
        "mapping": MappingProxyType({"secret": "s-1", "ok": "fine"}),
        "cyclic": cyclic,
    }
    redacted = redact(value)
    assert redacted["token"] == redacted[b"cookie"] == "[REDACTED]"
    assert redacted[7] == "seven"
    assert redacted["short"] == "api_key=[REDACTED]"
    assert redacted["long"] == "x" * 200 + " password=[REDACTED]"
    assert redacted["plain"] == [1, 2.5, True, None]
    assert redacted["mapping"] == {"secret": "[REDACTED]", "ok": "fine"}
    depth = redacted["cyclic"]
    for _ in range(10):
        depth = depth["self"]
    assert depth == "[TRUNCATED]"
    assert value["token"] == "t-1"  # a copy: the caller's data is left alone


def test_crlf_cannot_forge_a_line_in_the_files(log_dir: Path) -> None:
    forged = 'real\r\n{"message": "forged", "level": "CRITICAL"}\u2028next'
    get_logger("app.tests.crlf").error(forged, extra={"k\nk": "v\r\nv"})

    for name in ("app.json", "error.json"):
        text = (log_dir / name).read_text() if records(log_dir / name) else ""
        assert text.count("\n") == len(text.splitlines()) == len(records(log_dir / name))
        assert [
            r["message"] for r in records(log_dir / name) if r["logger"] == "app.tests.crlf"
        ] == [forged]


def test_crlf_cannot_forge_a_line_on_the_plain_console(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(make_settings(LOG_DIR=tmp_path / "logs", LOG_JSON_CONSOLE=False))
    logger = get_logger("app.tests.console")
    logger.warning("first\r\nFAKE 2020-01-01 CRITICAL forged\x1b[31m", extra={"k": "a\nb"})
    try:
        raise RuntimeError("boom\nFAKE 2020-01-01 CRITICAL forged")
    except RuntimeError:
        logger.exception("second")
    stop_logger()

    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    ours = [line for line in lines if "app.tests.console" in line]
    assert len(ours) == 2
    assert "first\\r\\nFAKE" in ours[0]
    assert "\x1b" not in ours[0]
    continuation = lines[lines.index(ours[1]) + 1 :]
    assert continuation
    assert all(line.startswith("    | ") for line in continuation)


def test_production_console_is_json(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(
        make_settings(LOG_DIR=tmp_path / "logs", ENVIRONMENT="production", LOG_LEVEL="DEBUG")
    )
    get_logger("app.tests.prodconsole").debug("json_console_event")
    stop_logger()

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert ("app.tests.prodconsole", "DEBUG") in {(r["logger"], r["level"]) for r in lines}


def test_several_workers_write_one_file_set_each(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    directory = tmp_path / "logs"
    configure_logging(make_settings(LOG_DIR=directory, WORKERS=2))
    get_logger("app.tests.workers").error("worker_event")
    stop_logger()

    slot = worker_slot(directory)
    assert len(marked(directory / f"app.{slot}.json", "worker_event")) == 1
    assert len(marked(directory / f"error.{slot}.json", "worker_event")) == 1
    assert not (directory / "app.json").exists()


SLOT_PROBE = "import sys; from pathlib import Path; from app.core.logger.slots import worker_slot; print(worker_slot(Path(sys.argv[1])))"


def test_worker_slots_are_distinct_while_held_and_reused_after_exit(tmp_path: Path) -> None:
    """Log files are named by slot, not PID: a restarted worker writes the same files."""
    repo = Path(__file__).resolve().parents[3]

    def slot_of_a_new_process() -> int:
        result = subprocess.run(
            [sys.executable, "-c", SLOT_PROBE, str(tmp_path)],
            env={**os.environ, "PYTHONPATH": str(repo)},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return int(result.stdout)

    ours = worker_slot(tmp_path)
    assert worker_slot(tmp_path) == ours  # claimed once per process
    first = slot_of_a_new_process()
    assert first != ours
    assert slot_of_a_new_process() == first  # the exited process's slot is free again


async def test_every_line_of_a_request_carries_its_response_request_id(
    make_client: Callable[..., Any], tmp_path: Path
) -> None:
    router = APIRouter()
    logger = get_logger("app.tests.http")

    @router.get("/logged/{item_id}")
    async def logged(item_id: int) -> dict[str, int]:
        logger.info("handler_start", extra={"item_id": item_id})
        await asyncio.sleep(0)
        logger.warning("handler_end", extra={"item_id": item_id})
        return {"item_id": item_id}

    async with make_client() as client:
        client.app.include_router(router, prefix="/api/logtest")
        responses: list[httpx.Response] = await asyncio.gather(
            *(client.get(f"/api/logtest/logged/{n}") for n in range(20))
        )
    lines = [r for r in records(tmp_path / "logs" / "app.json") if r["logger"] == "app.tests.http"]
    assert len(lines) == 40
    by_item = {
        response.json()["item_id"]: response.headers["x-request-id"] for response in responses
    }
    assert all(line["request_id"] == by_item[line["extra"]["item_id"]] for line in lines)


@pytest.fixture
def only_the_pipeline(log_dir: Path) -> Iterator[Path]:
    """Root keeps our queue handler alone (pytest's capture handlers set aside), as in a
    served app: `log_fields` then leaves building the record to the listener. Request it
    with `getfixturevalue` inside the test: pytest adds its handlers after fixtures."""
    root = logging.getLogger()
    others = [handler for handler in root.handlers if not isinstance(handler, ContextQueueHandler)]
    for handler in others:
        root.removeHandler(handler)
    try:
        yield log_dir
    finally:
        for handler in others:
            root.addHandler(handler)


@pytest.mark.parametrize(
    ("alone", "json_console"),
    [(False, False), (True, False), (True, True)],
    ids=["other-handlers", "built-by-listener", "line-only"],
)
def test_log_fields_writes_the_line_logger_info_would(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    log_dir: Path,
    alone: bool,
    json_console: bool,
) -> None:
    """Whichever path a `log_fields` call takes (a record handled here, a record built by
    the listener, or only its JSON line when every destination writes JSON), the line is
    the one `logger.info(..., extra=...)` writes."""
    configure_logging(make_settings(LOG_DIR=log_dir, LOG_JSON_CONSOLE=json_console))
    if alone:
        request.getfixturevalue("only_the_pipeline")
    logger = get_logger("app.tests.fast")
    assert _pipeline.is_sole_destination(logger, logging.INFO) is alone
    fields = {"method": "GET", "path": "/x?token=abc", "status": 200, "api_key": "k"}
    request_token, user_token = request_id_ctx.set("req-fast"), user_id_ctx.set("user-7")
    try:
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        log_fields(logger, logging.INFO, "fast_event", fields)
        logger.info("slow_event", extra=fields)
    finally:
        request_id_ctx.reset(request_token)
        user_id_ctx.reset(user_token)

    (fast,) = marked(log_dir / "app.json", "fast_event")
    (slow,) = marked(log_dir / "app.json", "slow_event")
    assert fast["line"] == line
    assert fast["extra"]["path"] == "/x?token=[REDACTED]"
    assert fast["extra"]["api_key"] == "[REDACTED]"
    different = {"message", "line", "timestamp"}
    assert {k: v for k, v in fast.items() if k not in different} == {
        k: v for k, v in slow.items() if k not in different
    }
    assert fast["request_id"] == "req-fast"
    assert fast["user_id"] == "user-7"
    assert fast["timestamp"] <= slow["timestamp"]


def test_records_go_straight_to_the_queue_only_when_nothing_else_listens(
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("only_the_pipeline")
    logger = get_logger("app.tests.sole")
    assert _pipeline.is_sole_destination(logger, logging.INFO)
    extra_handler = logging.NullHandler()
    logger.addHandler(extra_handler)
    assert not _pipeline.is_sole_destination(logger, logging.INFO)
    logger.removeHandler(extra_handler)
    logging.getLogger("app").addFilter(lambda record: True)
    try:
        assert not _pipeline.is_sole_destination(logger, logging.INFO)
    finally:
        logging.getLogger("app").filters.clear()
    logger.propagate = False
    try:
        assert not _pipeline.is_sole_destination(logger, logging.INFO)
    finally:
        logger.propagate = True


def test_log_fields_respects_the_level_and_reaches_other_handlers(log_dir: Path) -> None:
    logger = get_logger("app.tests.fast_level")
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.setLevel(logging.WARNING)
        log_fields(logger, logging.INFO, "dropped", {"a": 1})
        log_fields(logger, logging.WARNING, "kept", {"a": 2})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    assert [(record.getMessage(), record.a) for record in seen] == [("kept", 2)]  # type: ignore[attr-defined]
    assert [record["extra"] for record in marked(log_dir / "app.json", "kept")] == [{"a": 2}]
    assert marked(log_dir / "app.json", "dropped") == []
    with pytest.raises(KeyError):
        log_fields(logger, logging.WARNING, "clash", {"lineno": 3})


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize("json_console", [False, True], ids=["built-record", "line-only"])
def test_a_record_that_cannot_be_rendered_does_not_stop_the_listener(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    log_dir: Path,
    capsys: pytest.CaptureFixture[str],
    json_console: bool,
) -> None:
    configure_logging(make_settings(LOG_DIR=log_dir, LOG_JSON_CONSOLE=json_console))
    request.getfixturevalue("only_the_pipeline")
    logger = get_logger("app.tests.unprintable")
    log_fields(logger, logging.INFO, "broken", {"value": _Unprintable()})
    log_fields(logger, logging.INFO, "after", {"value": 1})

    assert [record["extra"] for record in marked(log_dir / "app.json", "after")] == [{"value": 1}]
    assert "no repr" in capsys.readouterr().err


def _wait_for_line(path: Path, marker: str, timeout: float = 5.0) -> bool:
    """Whether a line with message `marker` reaches `path` (written by the running listener)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and f'"message":"{marker}"' in path.read_text(encoding="utf-8"):
            return True
        time.sleep(0.02)
    return False


def test_a_destination_that_fails_to_flush_does_not_stop_the_listener(
    log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = get_logger("app.tests.flush")
    logger.error("before")
    assert _wait_for_line(log_dir / "app.json", "before")
    app_file = _pipeline._handlers[0]
    assert isinstance(app_file, logging.FileHandler)
    assert app_file.baseFilename == str(log_dir / "app.json")
    app_file.stream.close()  # the file gone bad under the listener: writes and flushes raise
    try:
        logger.error("while_broken")
        logger.error("after")
        assert _wait_for_line(log_dir / "error.json", "after")
        assert "I/O operation on closed file" in capsys.readouterr().err
    finally:
        app_file.stream = None  # type: ignore[assignment]  # let stop_logger() close cleanly
