"""End to end: a real Prometheus scrapes `WORKERS=2` with deploy/prometheus as shipped.

Only the target, the intervals (1 s, to stay bounded) and file paths are changed in the
scrape config; the rules are the shipped files. Known traffic goes to the service (the
test app adds one route that raises, for a 500), then Prometheus's HTTP API must show
request totals equal to what was sent, every recording rule and every dashboard query
returning data, and the brute-force alert pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from app.core.config import Settings
from tests.deploy.binaries import installed
from tests.system.app_process import (
    REPO,
    AppProcess,
    free_port,
    stop_process,
    two_workers_on_test_redis,
)
from tests.system.fault_route_app import FAILING_PATH

pytestmark = pytest.mark.slow

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "service-overview.json"
METRICS_TOKEN = "e2e-scrape-token-0123456789abcdef"
JOB = "service"
PASSWORD = "correct horse battery staple"
BRUTE_FORCE_ATTEMPTS = 90  # the alert wants more than 60 failed logins in a minute
# Requests the test did not send: Prometheus's scrapes and the start-up probes of /health.
NOT_OUR_TRAFFIC = "/metrics.*|/health"

# The rate limiter answers 429 before routing, and until refused requests are labelled
# with their route template too (the `defects` branch) they count under <unmatched>.
# Only logins are refused here and no other POST goes unmatched, so such a series is them.
REFUSED_BEFORE_ROUTING = {
    ("POST", "<unmatched>", "429"): ("POST", "/api/auth/login", "429"),
}

T = TypeVar("T")

# (method, endpoint label, status) -> requests the service answered
Tally = Counter[tuple[str, str, str]]


class Prometheus:
    """The `prometheus` binary on a free port, and its HTTP API."""

    def __init__(self, tmp_path: Path, target: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "prometheus.log"
        token_file = tmp_path / "metrics_token"
        token_file.write_text(METRICS_TOKEN)
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        config["global"] |= {
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "evaluation_interval": "1s",
        }
        config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
        [scrape] = config["scrape_configs"]
        assert scrape["job_name"] == JOB
        scrape["authorization"]["credentials_file"] = str(token_file)
        scrape["static_configs"] = [{"targets": [target]}]
        self.config_path = tmp_path / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.storage = tmp_path / "tsdb"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Prometheus:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    installed("prometheus"),
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.storage}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus not ready in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)

    async def api(self, path: str, **params: str) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            response = await client.get(f"/api/v1/{path}", params=params)
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's vector (errors fail the test)."""
        data = await self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, within: float) -> T:
    """The first truthy result of `check`, polled every 0.5 s for at most `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, database_overrides: dict[str, Any]
) -> Iterator[AppProcess]:
    """`WORKERS=2`, serving the test app, with a metrics token and shared Redis limits."""
    with two_workers_on_test_redis(
        tmp_path_factory.mktemp("prometheus-e2e"),
        database_overrides,
        module="tests.system.fault_route_service",
        METRICS_AUTH_TOKEN=METRICS_TOKEN,
        SYSTEM_METRICS_INTERVAL_SECONDS="1",
        RATE_LIMIT_LOGIN_PER_IP="1000/minute",
        RATE_LIMIT_LOGIN_PER_EMAIL="5/minute",
    ) as app:
        yield app


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, service: AppProcess
) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{service.port}")
    try:
        yield server.start()
    finally:
        server.stop()


class Traffic:
    """Sends requests, each on a new connection (so both workers serve), and tallies them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tally: Tally = Counter()
        self.request_ids: set[str] = set()

    async def send(self, method: str, path: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, path, **kwargs)
        self.tally[(method, endpoint, str(response.status_code))] += 1
        self.request_ids.add(response.headers["x-request-id"])
        return response

    async def login(self, email: str, password: str) -> httpx.Response:
        body = {"email": email, "password": password}
        return await self.send("POST", "/api/auth/login", "/api/auth/login", json=body)

    async def ready(self) -> None:
        assert (await self.send("GET", "/health/ready", "/health/ready")).status_code == 200


async def _known_traffic(traffic: Traffic) -> None:
    """Successes, 401s, a reused refresh token, 404s, 409, 429s and 500s."""
    # The test database outlives the run: a new address each time.
    user = {"email": f"operator-{uuid.uuid4().hex}@example.com", "password": PASSWORD}
    assert (
        await traffic.send("POST", "/api/auth/register", "/api/auth/register", json=user)
    ).status_code == 201
    assert (
        await traffic.send("POST", "/api/auth/register", "/api/auth/register", json=user)
    ).status_code == 409
    tokens = (await traffic.login(user["email"], PASSWORD)).json()["data"]
    me = await traffic.send(
        "GET",
        "/api/auth/me",
        "/api/auth/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert me.status_code == 200
    for _ in range(3):
        assert (await traffic.send("GET", "/api/auth/me", "/api/auth/me")).status_code == 401
    refresh = {"refresh_token": tokens["refresh_token"]}
    assert (
        await traffic.send("POST", "/api/auth/refresh", "/api/auth/refresh", json=refresh)
    ).status_code == 200
    assert (
        await traffic.send("POST", "/api/auth/refresh", "/api/auth/refresh", json=refresh)
    ).status_code == 401
    for _ in range(2):
        assert (await traffic.send("GET", FAILING_PATH, FAILING_PATH)).status_code == 500
        assert (await traffic.send("GET", "/no/such/path", "<unmatched>")).status_code == 404
    # One address guessed too often: 401s, then the per-email limit answers 429.
    statuses = [
        (await traffic.login(user["email"], "wrong password")).status_code for _ in range(8)
    ]
    assert set(statuses) == {401, 429}, statuses


async def _brute_force(traffic: Traffic, prometheus: Prometheus) -> None:
    """One failed login, scraped, then a burst of failed logins for other addresses.

    The failures are passwords longer than PASSWORD_MAX_LENGTH: refused like any other
    failed login (401, counted with reason="password_too_long") but without Argon2 work,
    which keeps the burst short. The first one makes the series exist before the burst:
    `rate()` counts increases between samples, not a series' first value.
    """
    guess = "x" * (Settings.model_fields["PASSWORD_MAX_LENGTH"].default + 1)
    assert (await traffic.login("intruder-0@example.com", guess)).status_code == 401
    await eventually(
        lambda: prometheus.query('domain_auth_login_failures_total{reason="password_too_long"}'),
        "the password_too_long series is scraped",
        within=15,
    )
    semaphore = asyncio.Semaphore(8)

    async def attempt(number: int) -> int:
        async with semaphore:
            return (await traffic.login(f"intruder-{number}@example.com", guess)).status_code

    statuses = await asyncio.gather(*(attempt(n) for n in range(1, BRUTE_FORCE_ATTEMPTS + 1)))
    assert statuses == [401] * BRUTE_FORCE_ATTEMPTS


def _dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"].replace("$job", JOB)
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def _recording_rules() -> list[str]:
    return [
        rule["record"]
        for path in sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    ]


async def test_prometheus_sees_the_traffic_rules_dashboard_and_brute_force_alert(
    service: AppProcess, prometheus: Prometheus
) -> None:
    up = await eventually(
        lambda: prometheus.query(f'up{{job="{JOB}"}} == 1'), "target up", within=15
    )
    assert len(up) == 1  # the bearer token from the credentials file was accepted

    # No keep-alive: every request opens a connection, which either worker may accept.
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=service.url, timeout=30, limits=no_keepalive) as client:
        traffic = Traffic(client)
        await traffic.ready()
        await _known_traffic(traffic)
        await _brute_force(traffic, prometheus)  # waits for a scrape first
        # Readiness probes on both sides of a scrape: the readiness ratio has a rate.
        await traffic.ready()
        await traffic.ready()
    sent = sum(traffic.tally.values())

    # Request totals: every (method, endpoint, status) equals what was sent, both workers.
    series = f'sum by (method, endpoint, status) (app_requests_total{{job="{JOB}", endpoint!~"{NOT_OUR_TRAFFIC}"}})'

    seen: Tally = Counter()

    async def counted_as_sent() -> bool:
        seen.clear()
        for sample in await prometheus.query(series):
            labels = sample["metric"]
            key = (labels["method"], labels["endpoint"], labels["status"])
            seen[REFUSED_BEFORE_ROUTING.get(key, key)] += int(float(sample["value"][1]))
        return seen == traffic.tally

    with contextlib.suppress(AssertionError):
        await eventually(counted_as_sent, "Prometheus counts what was sent", within=15)
    assert seen == traffic.tally
    [total] = await prometheus.query(
        f'sum(app_requests_total{{job="{JOB}", endpoint!~"{NOT_OUR_TRAFFIC}"}})'
    )
    assert float(total["value"][1]) == sent
    # The domain counters and the unhandled errors add up across workers too.
    expected = {
        f'sum(domain_auth_login_failures_total{{job="{JOB}"}})': traffic.tally[
            ("POST", "/api/auth/login", "401")
        ],
        f'sum(domain_auth_refresh_reuse_total{{job="{JOB}"}})': 1,
        f'sum(app_errors_total{{job="{JOB}", exception_type="DeliberateFailureError"}})': traffic.tally[
            ("GET", FAILING_PATH, "500")
        ],
    }
    for query, count in expected.items():
        [sample] = await prometheus.query(query)
        assert float(sample["value"][1]) == count, query
    served_by = Counter(
        name
        for name, record in service.log_records_by_file()
        if record["message"] == "request" and record.get("request_id") in traffic.request_ids
    )
    assert len(served_by) == 2, served_by

    # The brute-force alert is pending (its `for:` keeps it from firing within the test).
    async def brute_force_alert() -> list[dict[str, Any]]:
        alerts = (await prometheus.api("alerts"))["alerts"]
        return [alert for alert in alerts if alert["labels"]["alertname"] == "LoginBruteForce"]

    [alert] = await eventually(brute_force_alert, "LoginBruteForce is active", within=15)
    assert alert["state"] == "pending"
    assert alert["labels"] == {"alertname": "LoginBruteForce", "job": JOB, "severity": "page"}

    # Every recording rule is healthy and has data; so has every dashboard query.
    without_data: list[str] = []

    async def all_have_data(queries: list[str]) -> bool:
        without_data[:] = [query for query in queries if not await prometheus.query(query)]
        return not without_data

    with contextlib.suppress(AssertionError):
        await eventually(lambda: all_have_data(_recording_rules()), "rules have data", within=20)
    assert without_data == [], "recording rules without data"
    groups = (await prometheus.api("rules"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["name"] for rule in rules if rule["type"] == "recording"} == set(
        _recording_rules()
    )
    assert [rule["name"] for rule in rules if rule["health"] != "ok"] == []

    with contextlib.suppress(AssertionError):
        await eventually(lambda: all_have_data(_dashboard_queries()), "panels have data", within=10)
    assert without_data == [], "dashboard queries without data"

    for name, value in [
        ("requests sent", sent),
        ("totals by series", dict(traffic.tally)),
        ("brute-force alert", alert["state"] + " value " + alert["value"]),
    ]:
        print(f"{name}: {value}")  # the figures this run saw (pytest -s shows them)
    print(
        "failed logins",
        [
            (s["metric"].get("reason"), s["value"][1])
            for s in await prometheus.query(f'domain_auth_login_failures_total{{job="{JOB}"}}')
        ],
    )
    for name in _recording_rules():
        print(name, [(s["metric"], s["value"][1]) for s in await prometheus.query(name)][:3])
