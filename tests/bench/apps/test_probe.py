"""Where bench/apps/probe.py puts the in-process rows' endpoint in an app's route table."""

from __future__ import annotations

from pathlib import Path

from app.core.route_table import StaticPathIndex
from bench.apps import probe
from bench.apps.ours import ours_app


def _paths(routes: list[object]) -> list[str | None]:
    return [getattr(route, "path", None) for route in routes]


def test_first_in_puts_the_endpoint_before_every_route_even_the_static_index(
    tmp_path: Path,
) -> None:
    routes = probe.first_in(ours_app(tmp_path)).router.routes

    assert _paths(routes)[0] == probe.PATH
    assert isinstance(routes[1], StaticPathIndex)


def test_last_in_puts_the_endpoint_behind_every_route(tmp_path: Path) -> None:
    routes = probe.last_in(ours_app(tmp_path)).router.routes

    assert _paths(routes)[-1] == probe.PATH
    assert _paths(routes).count(probe.PATH) == 1


def test_api_with_probe_puts_the_endpoint_after_the_api_routes(tmp_path: Path) -> None:
    paths = _paths(ours_app(tmp_path, api=probe.api_with_probe()).router.routes)

    api_paths = [path for path in paths if path and path.startswith("/api/")]
    assert api_paths[-1] == probe.API_PATH
    assert len(api_paths) > 1
