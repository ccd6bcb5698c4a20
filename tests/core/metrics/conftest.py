"""Scraping /metrics over HTTP, as Prometheus does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_exposition(text: str) -> Series:
    """{(sample name, labels): value} for every sample of a text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    """The sample's value, 0 when the series does not exist (yet)."""
    return series.get((name, frozenset(labels.items())), 0.0)


def names(series: Series, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called `name`."""
    return [dict(labels) for sample, labels in series if sample == name]


@pytest.fixture
def scrape() -> Callable[[httpx.AsyncClient], Awaitable[Series]]:
    async def get(client: httpx.AsyncClient, path: str = "/metrics", **kw: str) -> Series:
        response = await client.get(path, **kw)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return parse_exposition(response.text)

    return get
