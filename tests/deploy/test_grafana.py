"""deploy/grafana: the dashboard covers every area and uses the provisioned datasource.

Whether each panel's query returns data from a real Prometheus is checked end to end in
tests/system/test_prometheus.py; here, that the files fit together as Grafana reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

GRAFANA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "service-overview.json"
AREAS = {
    "Traffic",
    "Errors",
    "Latency",
    "Auth events",
    "Rate limiting",
    "PostgreSQL pool",
    "System",
    "Background jobs",
}


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def _rows() -> dict[str, list[dict[str, Any]]]:
    """Panels under each row title, in dashboard order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] = []
    for panel in _dashboard()["panels"]:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], [])
        else:
            current.append(panel)
    return rows


def test_dashboard_has_a_row_of_panels_with_queries_for_every_area() -> None:
    rows = _rows()
    assert set(rows) == AREAS
    for title, panels in rows.items():
        assert panels, title
        for panel in panels:
            assert panel["targets"], panel["title"]
            assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_panels_use_the_provisioned_datasource_and_the_job_variable() -> None:
    provisioned = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    [datasource] = provisioned["datasources"]
    assert datasource["type"] == "prometheus"
    dashboard = _dashboard()
    [variable] = dashboard["templating"]["list"]
    assert variable["name"] == "job"
    assert variable["datasource"]["uid"] == datasource["uid"]
    for panels in _rows().values():
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
            for target in panel["targets"]:
                assert 'job="$job"' in target["expr"], target["expr"]


def test_panel_ids_are_unique_and_panels_do_not_overlap() -> None:
    panels = _dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells = set()
    for panel in panels:
        grid = panel["gridPos"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells |= area


def test_dashboard_provider_loads_files_from_one_folder() -> None:
    provisioned = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "dashboards" / "service.yml").read_text()
    )
    [provider] = provisioned["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
    assert [path.name for path in DASHBOARD.parent.iterdir()] == [DASHBOARD.name]
