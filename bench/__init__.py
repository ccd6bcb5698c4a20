"""`make bench`: our endpoints beside their plain FastAPI equivalents, then the cost figures
the other issues ask for. One path, in the order a run takes it:

- `apps`: each app built in one place. `settings` (production settings, keys made for
  the run, the bench database), `database` (dropped and migrated afresh), `ours` (the
  service through `app.main:create_app`, and its variants through the factory's own
  parameters), `bare` (the plain equivalents), `probe` (the in-process rows' trivial
  endpoint and bare apps), `serve` (how each is started as a server process);
- `load`: `servers` (fresh server processes, waited for), `cores` (server and load on
  separate cores), `seed` (accounts and sessions through the HTTP APIs), `generator`
  (wrk, or `pyload`, the asyncio client that also drives refresh-token rotation), `proc`
  (a server's CPU time and memory from /proc);
- `measure`: one module a section of the table: `endpoints` (the four endpoint ratios),
  `startup` (time to ready, RSS), `in_process` (µs per middleware), `hashing`,
  `logger_cost`, `metrics_render`, `user_agent`;
- `report`: `figures` (medians and per-round ratios), `rows` (each section's rows),
  `output` (the table and results/latest.json).

`__main__` runs the sections in that order. Nothing here is imported by the served app:
`python -m bench.apps.serve bare` imports only what the plain app needs.
"""
