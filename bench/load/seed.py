"""Accounts and sessions for the load runs, made through the services' own HTTP APIs.

Accounts are registered through our `POST /api/auth/register`. `/me` presents the access
token of a session opened by our login (ours and the plain app accept the same tokens).
Each app rotates refresh tokens of sessions opened by its own login: ours stores its
hash, the plain app a SHA-256 digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery staple"  # noqa: S105  (a benchmark fixture)
ACCOUNTS = 4


def emails() -> list[str]:
    return [f"bench-{number}@example.com" for number in range(ACCOUNTS)]


def login_body(email: str) -> str:
    return json.dumps({"email": email, "password": PASSWORD})


@dataclass(slots=True)
class Seeded:
    """What the load runs present; `refresh_tokens` moves on with every run."""

    access_token: str
    refresh_tokens: dict[str, list[str]]


def _login(client: httpx.Client, url: str, email: str) -> dict[str, str]:
    response = client.post(
        f"{url}/api/auth/login",
        content=login_body(email),
        headers={"content-type": "application/json"},
    )
    response.raise_for_status()
    pair: dict[str, str] = response.json()["data"]
    return pair


def seed(urls: dict[str, str], sessions: int) -> Seeded:
    """Register the accounts through ours, open `sessions` sessions through each app."""
    with httpx.Client(timeout=30.0) as client:
        for email in emails():
            response = client.post(
                f"{urls['ours']}/api/auth/register",
                json={"email": email, "password": PASSWORD, "full_name": "Bench User"},
            )
            assert response.status_code == 201, response.text
        accounts = emails()
        access_token = _login(client, urls["ours"], accounts[0])["access_token"]
        refresh_tokens = {
            kind: [
                _login(client, url, accounts[number % ACCOUNTS])["refresh_token"]
                for number in range(sessions)
            ]
            for kind, url in urls.items()
        }
    return Seeded(access_token=access_token, refresh_tokens=refresh_tokens)
