"""The deployment audit: what the service refuses to start with, and what it warns about.

`find_insecure_settings` finds development keys, weak or mistyped signing keys, a short
EMAIL_DIGEST_KEY and a wildcard CORS origin with credentials. `audit_settings` adds what
an independent review got through it: the placeholder key
kept as a previous (still verifying) key, low-entropy HMAC keys, every address trusted as
a proxy, rate limiting off, PostgreSQL's default password, a password policy under
OWASP's 8 characters, and key files other users can read. Every finding says how to fix
it.

Which findings stop the service: all of them in production; in staging, a wildcard CORS
origin with credentials too (staging holds real logins that any site could then read).
Elsewhere they are warnings. `ALLOW_INSECURE_SETTINGS` names variables whose findings a
deployment accepts on purpose: they are then warned about, never silently dropped. The
signing keys cannot be allowed: a known key lets anyone forge tokens.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.core.config import (
    PLACEHOLDER_ACCESS_KEY,
    PLACEHOLDER_REFRESH_KEY,
    TOKEN_KEY_PREFIXES,
    Settings,
)
from app.core.security.keys import find_key_problem, is_asymmetric

CLI = "python -m app.cli"
HMAC_MIN_KEY_BYTES = 32  # HS256; HS384/HS512 need 48/64 (checked by app.core.security.keys)
# Shannon estimate over the key's characters: 32 x 'a' is 0 bits, 32 random hex characters
# about 110, a `keys generate` secret about 250. Below this a key is guessable.
MIN_KEY_ENTROPY_BITS = 96
MIN_PASSWORD_LENGTH = 8  # OWASP ASVS 2.1.1
REFUSED_IN_STAGING = frozenset({"CORS_ALLOW_ORIGINS"})
NEVER_ALLOWED = frozenset(f"{prefix}_SIGNING_KEY" for prefix in TOKEN_KEY_PREFIXES) | frozenset(
    f"{prefix}_PREVIOUS_KEYS" for prefix in TOKEN_KEY_PREFIXES
)
_PLACEHOLDERS = frozenset({PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_REFRESH_KEY})


@dataclass(frozen=True, slots=True)
class InsecureSetting:
    """One reason why these settings are unsafe to serve production traffic with."""

    variable: str
    problem: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.problem}"


class InsecureSettingsError(RuntimeError):
    """Raised at startup in production when `find_insecure_settings` finds anything."""

    def __init__(self, findings: list[InsecureSetting]) -> None:
        self.findings = findings
        lines = "\n".join(f"  - {finding}" for finding in findings)
        super().__init__(f"refusing to start in production with insecure settings:\n{lines}")


def find_insecure_settings(settings: Settings) -> list[InsecureSetting]:
    """List development defaults and weak choices that must not reach production."""
    findings: list[InsecureSetting] = []
    placeholders = {
        "ACCESS_TOKEN": PLACEHOLDER_ACCESS_KEY,
        "REFRESH_TOKEN": PLACEHOLDER_REFRESH_KEY,
    }
    for prefix, placeholder in placeholders.items():
        name = f"{prefix}_SIGNING_KEY"
        value = getattr(settings, name).get_secret_value()
        previous = [key.get_secret_value() for key in getattr(settings, f"{prefix}_PREVIOUS_KEYS")]
        if value == placeholder:
            findings.append(InsecureSetting(name, "is the development placeholder; set a key"))
        elif problem := find_key_problem(settings.JWT_ALGORITHM, value, previous, prefix=prefix):
            # Covers short HMAC secrets, missing/invalid PEM keys and wrong key types.
            findings.append(InsecureSetting(problem.variable, problem.problem))
    access = settings.ACCESS_TOKEN_SIGNING_KEY.get_secret_value()
    if access and access == settings.REFRESH_TOKEN_SIGNING_KEY.get_secret_value():
        findings.append(
            InsecureSetting(
                "REFRESH_TOKEN_SIGNING_KEY", "equals ACCESS_TOKEN_SIGNING_KEY; use two keys"
            )
        )
    digest_key = settings.EMAIL_DIGEST_KEY
    if digest_key is not None and len(digest_key.get_secret_value()) < HMAC_MIN_KEY_BYTES:
        findings.append(
            InsecureSetting(
                "EMAIL_DIGEST_KEY", f"is shorter than {HMAC_MIN_KEY_BYTES} bytes; set a long key"
            )
        )
    if "*" in settings.CORS_ALLOW_ORIGINS and settings.CORS_ALLOW_CREDENTIALS:
        findings.append(
            InsecureSetting(
                "CORS_ALLOW_ORIGINS",
                "allows any origin ('*') together with CORS_ALLOW_CREDENTIALS=true; "
                "list the origins",
            )
        )
    return findings


def _key_fix(settings: Settings) -> str:
    if is_asymmetric(settings.JWT_ALGORITHM):
        return (
            f"generate a key pair with `{CLI} keys generate --algorithm "
            f"{settings.JWT_ALGORITHM} --out DIR` and point the *_FILE variable at it"
        )
    return f"generate a secret with `{CLI} keys generate`"


def _fixes(settings: Settings) -> dict[str, str]:
    """How to fix a finding, by the variable it names."""
    key_fix = _key_fix(settings)
    fixes = {
        "CORS_ALLOW_ORIGINS": "e.g. CORS_ALLOW_ORIGINS=https://app.example.com",
        "TRUSTED_PROXIES": "list your load balancer's addresses, e.g. TRUSTED_PROXIES=10.0.0.0/8",
        "RATE_LIMIT_ENABLED": "set RATE_LIMIT_ENABLED=true (and REDIS_URL for shared limits)",
        "POSTGRES_PASSWORD": "set POSTGRES_PASSWORD to the database user's own password",
        "PASSWORD_MIN_LENGTH": f"set PASSWORD_MIN_LENGTH={MIN_PASSWORD_LENGTH} or more",
    }
    for prefix in TOKEN_KEY_PREFIXES:
        fixes[f"{prefix}_SIGNING_KEY"] = key_fix
        fixes[f"{prefix}_PREVIOUS_KEYS"] = "remove it from the list; " + key_fix
    return fixes


def key_entropy_bits(text: str) -> float:
    """A rough entropy estimate: the characters' Shannon entropy times the length."""
    if not text:
        return 0.0
    counts = Counter(text)
    size = len(text)
    per_char = -sum(count / size * math.log2(count / size) for count in counts.values())
    return per_char * size


def _key_findings(settings: Settings) -> Iterator[InsecureSetting]:
    hmac = not is_asymmetric(settings.JWT_ALGORITHM)
    for prefix in TOKEN_KEY_PREFIXES:
        previous_name = f"{prefix}_PREVIOUS_KEYS"
        previous = [key.get_secret_value() for key in getattr(settings, previous_name)]
        if any(key in _PLACEHOLDERS for key in previous):
            yield InsecureSetting(
                previous_name, "holds the development placeholder key, which anyone can sign with"
            )
        if not hmac:
            continue
        current_name = f"{prefix}_SIGNING_KEY"
        current = getattr(settings, current_name).get_secret_value()
        named = [(current_name, current)] + [(previous_name, key) for key in previous]
        for name, key in named:
            if key not in _PLACEHOLDERS and key_entropy_bits(key) < MIN_KEY_ENTROPY_BITS:
                yield InsecureSetting(
                    name,
                    f"has low entropy (about {key_entropy_bits(key):.0f} bits, "
                    f"at least {MIN_KEY_ENTROPY_BITS} needed): it can be guessed",
                )


def _key_files(settings: Settings) -> Iterator[tuple[str, Path]]:
    """Files holding private keys or secrets (previous asymmetric keys are public)."""
    for prefix in TOKEN_KEY_PREFIXES:
        variable = f"{prefix}_SIGNING_KEY_FILE"
        path: Path | None = getattr(settings, variable)
        if path is not None:
            yield variable, path
        if not is_asymmetric(settings.JWT_ALGORITHM):
            variable = f"{prefix}_PREVIOUS_KEY_FILES"
            for previous in getattr(settings, variable):
                yield variable, previous


def _key_file_findings(settings: Settings) -> Iterator[InsecureSetting]:
    for variable, path in _key_files(settings):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue  # reading the key already failed loudly in Settings
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            yield InsecureSetting(
                variable,
                f"{path} is readable or writable by other users (mode {mode:o}); "
                f"run `chmod 600 {path}` (on a Kubernetes secret volume: defaultMode 0400)",
            )


def _network_findings(settings: Settings) -> Iterator[InsecureSetting]:
    for cidr in settings.TRUSTED_PROXIES:
        if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
            yield InsecureSetting(
                "TRUSTED_PROXIES",
                f"{cidr} trusts every address: any client can forge X-Forwarded-For "
                "and choose its own IP for rate limits and session records",
            )
    if not settings.RATE_LIMIT_ENABLED:
        yield InsecureSetting(
            "RATE_LIMIT_ENABLED", "is false: login and register can be brute-forced"
        )


def _account_findings(settings: Settings) -> Iterator[InsecureSetting]:
    if settings.POSTGRES_PASSWORD.get_secret_value() == "postgres":
        yield InsecureSetting("POSTGRES_PASSWORD", "is PostgreSQL's well-known default")
    if settings.PASSWORD_MIN_LENGTH < MIN_PASSWORD_LENGTH:
        yield InsecureSetting(
            "PASSWORD_MIN_LENGTH",
            f"is {settings.PASSWORD_MIN_LENGTH}; OWASP asks for at least {MIN_PASSWORD_LENGTH}",
        )


def audit_settings(settings: Settings) -> list[InsecureSetting]:
    """Every finding for these settings, each saying how to fix it."""
    findings = [
        *find_insecure_settings(settings),
        *_key_findings(settings),
        *_key_file_findings(settings),
        *_network_findings(settings),
        *_account_findings(settings),
    ]
    fixes = _fixes(settings)
    return [
        replace(finding, problem=f"{finding.problem}; fix: {fixes[_variable(finding)]}")
        if _variable(finding) in fixes and "fix:" not in finding.problem
        else finding
        for finding in findings
    ]


def _variable(finding: InsecureSetting) -> str:
    """The setting's name: `ACCESS_TOKEN_PREVIOUS_KEYS[1]` -> `ACCESS_TOKEN_PREVIOUS_KEYS`."""
    return finding.variable.split("[", 1)[0]


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """The findings that stop the service here, and those it starts with, logged."""

    refused: list[InsecureSetting] = field(default_factory=list)
    warned: list[InsecureSetting] = field(default_factory=list)


def _refused_here(settings: Settings, finding: InsecureSetting) -> bool:
    if settings.is_production:
        return True
    return settings.ENVIRONMENT == "staging" and finding.variable in REFUSED_IN_STAGING


def judge(settings: Settings, findings: list[InsecureSetting]) -> AuditVerdict:
    """Split findings into refusals and warnings for this environment and its overrides."""
    allowed = set(settings.ALLOW_INSECURE_SETTINGS) - NEVER_ALLOWED
    verdict = AuditVerdict()
    for finding in findings:
        if _refused_here(settings, finding) and _variable(finding) not in allowed:
            verdict.refused.append(finding)
        else:
            verdict.warned.append(finding)
    return verdict


def audit(settings: Settings) -> AuditVerdict:
    """The startup audit: `audit_settings` judged for this environment."""
    return judge(settings, audit_settings(settings))


def startup_notices(settings: Settings) -> list[str]:
    """Things worth a warning at startup that are not settings mistakes as such."""
    notices = []
    if settings.is_production and settings.METRICS_AUTH_TOKEN is None:
        notices.append(
            "/metrics is public: anyone who reaches the service can read it; "
            "set METRICS_AUTH_TOKEN or keep /metrics off the public network"
        )
    return notices


def log_warnings(settings: Settings, verdict: AuditVerdict) -> None:
    """Log the audit's warnings and the startup notices (once per start: see create_app)."""
    logger = logging.getLogger("app.audit")
    for finding in verdict.warned:
        logger.warning(
            "insecure_setting", extra={"variable": finding.variable, "problem": finding.problem}
        )
    for notice in startup_notices(settings):
        logger.warning("startup_notice", extra={"notice": notice})
