"""HTTP plumbing of `app.core` that the middleware (`app.core.middleware`) and routes use.

`device` (User-Agent and Client Hints) and `client_ip` (trusted proxies), which the
device-info middleware applies; `schemas` (DeviceType, SessionDeviceInfo); `route` (the
route template of a request); `docs` (offline /docs and /redoc); `no_store` (the no-store
route class); `bounded_protocol` (uvicorn's HTTP protocol with bounded heads).
"""
