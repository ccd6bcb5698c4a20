"""The auth domain's security events as Prometheus counters, declared once.

The request counter shows a 401 on /api/auth/login or /api/auth/refresh but not why;
these say it: a failed login by reason (brute-force alerting), and a refresh token
presented again after its rotation (token theft: the session was revoked). Label values
are the fixed reasons of `AuthService._login_failed`, so the series stay bounded.
"""

from __future__ import annotations

from app.core.metrics.prometheus import prometheus

login_failures = prometheus.register_counter(
    "domain_auth_login_failures_total",
    "Failed logins, by reason (wrong_password, unknown_email, password_too_long, inactive_user)",
    ["reason"],
)
refresh_reuse = prometheus.register_counter(
    "domain_auth_refresh_reuse_total",
    "Refresh tokens presented again after rotation; each revoked its session",
)
