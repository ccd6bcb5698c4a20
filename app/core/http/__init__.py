"""HTTP plumbing of `app.core`, one small module per job.

Middleware (pure ASGI, wired by `app.core.middleware.add_middlewares`): `request_id`,
`security_headers`, `error_boundary`, `body_limit`; the device-info middleware builds on
`device` (User-Agent and Client Hints) and `client_ip` (trusted proxies). Helpers:
`route` (route template of a request), `schemas` (DeviceType, SessionDeviceInfo).
"""
