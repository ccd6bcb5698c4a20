"""The pipeline: configuring, flushing and stopping it, library loggers, `log_fields`, failures."""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.logger import (
    ContextQueueHandler,
    configure_logging,
    get_logger,
    log_fields,
    request_id_ctx,
    stop_logger,
    user_id_ctx,
)
from app.core.logger.pipeline import _pipeline
from tests.core.logger.log_lines import marked, records


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
