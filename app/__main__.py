"""`python -m app`: prepare the database, then serve with uvicorn from Settings.

A start that fails ends with one line on stderr naming the cause and an exit code of
its own (README, "Exit codes"), so a supervisor or a person can tell them apart. The
port is checked before the database is touched: nothing is migrated for a server
that cannot listen.
"""

from __future__ import annotations

import enum
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.core.audit import InsecureSettingsError, audit, log_warnings
from app.core.config import Settings, get_settings

if TYPE_CHECKING:
    import uvicorn

# What uvicorn serves: `create_app`'s signature (tests serve a variant of it).
AppFactory = Callable[..., Any]

# uvicorn's own exit code when the app's startup (lifespan) fails or it cannot bind.
UVICORN_STARTUP_FAILURE = 3


class ExitCode(enum.IntEnum):
    """Why `python -m app` did not start (1 stays Python's own: a crash with a traceback)."""

    INSECURE_SETTINGS = 2
    DATABASE_UNAVAILABLE = 3
    PORT_UNAVAILABLE = 4
    DATABASE_SETUP_FAILED = 5
    INVALID_SETTINGS = 6
    APP_STARTUP_FAILED = 7


def _fail(code: ExitCode, message: str) -> int:
    """Print the cause as the last line of stderr (the log lines queued before it first)."""
    from app.core.logger import stop_logger

    stop_logger()
    print(message.replace("\n", " "), file=sys.stderr)
    return int(code)


def port_unavailable(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on, or None if it can (as uvicorn binds it)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the signal after a graceful shutdown; exit 0 instead of dying by it.
    sys.exit(0)


def service_urls(settings: Settings) -> dict[str, str]:
    """Where to point a browser or a scraper: the API, its docs (when on) and /metrics."""
    host = settings.HOST
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  (naming the wildcard, not binding it)
        host = "127.0.0.1"
    base = f"http://{f'[{host}]' if ':' in host else host}:{settings.PORT}"
    urls = {"api": f"{base}/api", "health": f"{base}/health"}
    if settings.docs_enabled:
        urls["docs"] = f"{base}/docs"
    urls["metrics"] = f"{base}/metrics"
    return urls


def main(app_factory: AppFactory | None = None) -> int:
    """Check, prepare, serve `app_factory(settings, ...)` (`create_app` unless given)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        return _fail(ExitCode.INVALID_SETTINGS, f"invalid settings: {problems}")
    verdict = audit(settings)
    if verdict.refused:
        print(InsecureSettingsError(verdict.refused), file=sys.stderr)
        return int(ExitCode.INSECURE_SETTINGS)
    if problem := port_unavailable(settings.HOST, settings.PORT):
        return _fail(
            ExitCode.PORT_UNAVAILABLE,
            f"cannot listen on {settings.HOST}:{settings.PORT}: {problem.lower()}",
        )
    # Imported only now, so that refusing insecure settings takes a fraction of a second.
    import uvicorn

    from app.core.logger import configure_logging
    from app.core.metrics.prometheus import multiprocess_directory
    from app.db.postgres.bootstrap import DatabaseUnavailableError, prepare_database

    if app_factory is None:
        from app.main import create_app

        app_factory = create_app

    configure_logging(settings)  # this process's own lines (bootstrap, uvicorn's supervisor)
    log_warnings(settings, verdict)
    try:
        prepared, embedded = prepare_database(settings)
    except (DatabaseUnavailableError, OSError) as exc:
        return _fail(ExitCode.DATABASE_UNAVAILABLE, f"database unavailable: {exc}")
    except Exception as exc:  # reached, but creating or migrating the database failed
        return _fail(
            ExitCode.DATABASE_SETUP_FAILED,
            f"database setup failed: {type(exc).__name__}: {exc}",
        )
    logging.getLogger("app.serve").info("service_urls", extra=service_urls(settings))
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # Each worker builds its app from the prepared settings (an embedded server's socket
    # replaces POSTGRES_HOST/PORT there), and does not log the warnings again.
    factory = partial(app_factory, prepared, settings_warnings_logged=True)
    # With several workers, metrics go through prometheus_client's multiprocess files.
    try:
        with multiprocess_directory(settings.WORKERS), _startup_failure_translated():
            serve(
                uvicorn.Config(
                    factory,
                    factory=True,
                    host=settings.HOST,
                    port=settings.PORT,
                    workers=settings.WORKERS,
                    proxy_headers=False,
                    server_header=False,
                    log_config=None,
                    access_log=False,  # the request-ID middleware logs each request once
                    timeout_graceful_shutdown=settings.SHUTDOWN_TIMEOUT_SECONDS,
                    # httptools with bounded request heads: 431 past the size or field count.
                    http="app.core.http.bounded_protocol:BoundedHttpToolsProtocol",
                    h11_max_incomplete_event_size=settings.MAX_REQUEST_HEADER_BYTES,
                )
            )
    finally:  # served, Ctrl-C, SIGTERM (SystemExit) or a failed start alike
        if embedded is not None:
            embedded.stop()
    return 0


def serve(config: uvicorn.Config) -> None:
    """`uvicorn.run` for a factory object, which it accepts with one worker only.

    An import string cannot hand the workers anything but the environment; the factory
    object travels to each spawned worker inside the pickled config instead. Exits with
    uvicorn's code 3 when the app does not start, as `uvicorn.run` does.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        sys.exit(UVICORN_STARTUP_FAILURE)


@contextmanager
def _startup_failure_translated() -> Iterator[None]:
    """uvicorn exits 3 when the app's startup fails, which is our DATABASE_UNAVAILABLE."""
    try:
        yield
    except SystemExit as exc:
        if exc.code != UVICORN_STARTUP_FAILURE:
            raise
        raise SystemExit(
            _fail(ExitCode.APP_STARTUP_FAILED, "application startup failed; see the log above")
        ) from None


if __name__ == "__main__":
    sys.exit(main())
