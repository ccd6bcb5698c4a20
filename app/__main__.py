"""`python -m app`: prepare the database, then serve with uvicorn from Settings."""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from app.core.audit import WARNED_ENV, audit, log_warnings
from app.core.config import InsecureSettingsError, Settings, get_settings


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


def main() -> int:
    settings = get_settings()
    verdict = audit(settings)
    if verdict.refused:
        print(InsecureSettingsError(verdict.refused), file=sys.stderr)
        return 2
    # Imported only now, so that refusing insecure settings takes a fraction of a second.
    import uvicorn

    from app.core.logger import configure_logging
    from app.core.metrics.prometheus import multiprocess_directory
    from app.db.postgres.bootstrap import DatabaseUnavailableError, prepare_database

    configure_logging(settings)  # this process's own lines (bootstrap, uvicorn's supervisor)
    log_warnings(settings, verdict)
    os.environ[WARNED_ENV] = "1"  # logged once per start: the workers do not repeat them
    try:
        prepared = prepare_database(settings)
    except (DatabaseUnavailableError, OSError) as exc:
        print(f"database unavailable: {exc}", file=sys.stderr)
        return 3
    if (prepared.POSTGRES_HOST, prepared.POSTGRES_PORT) != (
        settings.POSTGRES_HOST,
        settings.POSTGRES_PORT,
    ):
        os.environ["POSTGRES_HOST"] = prepared.POSTGRES_HOST
        os.environ["POSTGRES_PORT"] = str(prepared.POSTGRES_PORT)
        get_settings.cache_clear()
    logging.getLogger("app.serve").info("service_urls", extra=service_urls(settings))
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # With several workers, metrics go through prometheus_client's multiprocess files.
    with multiprocess_directory(settings.WORKERS):
        uvicorn.run(
            "app.main:app",
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
