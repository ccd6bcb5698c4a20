"""The asyncio load client's refresh-token rotation, against the plain app over a socket.

The refresh ratio is only meaningful if every request presents a token that is valid at
that moment: the client must chain the token each answer returns, drop one that is
refused, and hand back the tokens current at the end for the next run.
"""

from __future__ import annotations

import httpx

from bench.apps.bare import BareConfig, create_bare_app
from bench.load import pyload
from tests.auth.conftest import PASSWORD, signed_in
from tests.live_server import serving


async def test_refresh_chains_each_sessions_token_and_drops_a_refused_one(
    client: httpx.AsyncClient, plain_config: BareConfig
) -> None:
    await signed_in(client, "ada@example.com")
    async with (
        serving(create_bare_app(plain_config)) as address,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
    ):
        tokens = []
        for _ in range(3):
            login = await http.post(
                "/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            tokens.append(login.json()["data"]["refresh_token"])

        figures = await pyload.run(
            {
                "url": f"http://{address}/api/auth/refresh",
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "seconds": 0.5,
                "connections": 2,
                "refresh_tokens": [*tokens, "not-a-refresh-token"],
            }
        )

        assert figures["failures"] == 1
        assert figures["failed_statuses"] == {"401": 1}  # which status failed, for the report
        assert figures["requests"] > len(tokens) + 1  # tokens were presented again
        current = figures["refresh_tokens"]
        assert len(current) == len(tokens)
        for token in tokens:  # each was rotated away during the run
            old = await http.post("/api/auth/refresh", json={"refresh_token": token})
            assert old.status_code == 401
        for token in current:  # and what the client kept is what the server expects
            fresh = await http.post("/api/auth/refresh", json={"refresh_token": token})
            assert fresh.status_code == 200, fresh.text
