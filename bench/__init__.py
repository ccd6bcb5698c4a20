"""`make bench`: our endpoints beside their plain FastAPI equivalents, then the cost figures
the other issues ask for. One path, in the order a run takes it:

- the apps: `settings` (production settings, keys made for the run, the bench database),
  `bare` (the plain equivalents), `serve` and `servers` (fresh pinned server processes:
  ours is `python -m app`), `seed` (accounts and sessions through the HTTP APIs);
- the load: `load` (wrk, or `pyload`, the asyncio client that also drives refresh-token
  rotation), `cpu` (server CPU time from /proc);
- the measurements: `endpoints` (the four endpoint ratios), `in_process` (µs per
  middleware), `hashing`, `logger_cost`, `metrics_render`, `user_agent`;
- the report: `figures` (medians and per-round ratios), `report` (the table and
  results/latest.json), `__main__` (the sections and their rows).
"""
