"""The Typer application: `check`, `keys generate`, `users create`, `sessions revoke`.

Exit codes: 0 done; 1 the audit found something, or the command could not be carried out
(the message says why); 2 a usage error (Typer's); 3 the database is unreachable.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer

from app.cli.keygen import (
    PRIVATE_MODE,
    PUBLIC_MODE,
    hmac_secret,
    pem_pair,
    private_key,
    write_new_file,
)
from app.core.audit import audit_settings, judge, startup_notices
from app.core.config import get_settings
from app.core.security.keys import is_asymmetric

T = TypeVar("T")
Algorithm = Literal["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]

cli = typer.Typer(
    name="python -m app.cli",
    help="Admin commands for the service; they read the same settings as `python -m app`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_cli = typer.Typer(help="Signing keys.", no_args_is_help=True)
users_cli = typer.Typer(help="User accounts.", no_args_is_help=True)
sessions_cli = typer.Typer(help="Login sessions.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(users_cli, name="users")
cli.add_typer(sessions_cli, name="sessions")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a database command; its refusals and an unreachable database become exits."""
    # Imported here: `check` and `keys` need neither SQLAlchemy nor the auth domain.
    from sqlalchemy.exc import InterfaceError, OperationalError

    from app.cli.accounts import AccountError
    from app.core.exceptions import ServiceUnavailableError

    try:
        return asyncio.run(work)
    except AccountError as e:
        raise _fail(str(e)) from None
    except (ServiceUnavailableError, OperationalError, InterfaceError, OSError) as e:
        raise _fail(f"database unavailable: {type(e).__name__}: {e}", 3) from None


@cli.command()
def check() -> None:
    """Audit the settings of this environment as production would (like Django's check
    --deploy); exits 1 on any finding not accepted in ALLOW_INSECURE_SETTINGS."""
    settings = get_settings()
    findings = audit_settings(settings)
    production = settings.model_copy(update={"ENVIRONMENT": "production"})
    verdict = judge(production, findings)
    for finding in verdict.refused:
        typer.echo(f"FAIL {finding}")
    for finding in verdict.warned:
        typer.echo(f"ACCEPTED (ALLOW_INSECURE_SETTINGS) {finding}")
    for notice in startup_notices(production):
        typer.echo(f"WARN {notice}")
    if verdict.refused:
        raise _fail(f"{len(verdict.refused)} finding(s) would stop production")
    typer.echo(f"OK: no finding would stop production (ENVIRONMENT={settings.ENVIRONMENT})")


@keys_cli.command("generate")
def keys_generate(
    algorithm: Annotated[
        Algorithm, typer.Option(help="HS256/384/512: a secret; RS256, ES256, EdDSA: a key pair.")
    ] = "HS256",
    out: Annotated[
        Path | None,
        typer.Option(help="Directory to write NAME.pem (0600) and NAME.pub.pem into."),
    ] = None,
    name: Annotated[str, typer.Option(help="File name stem, e.g. access or refresh.")] = "access",
) -> None:
    """Make a signing key: print an HMAC secret, or write a PEM key pair with mode 0600."""
    if not is_asymmetric(algorithm):
        secret = hmac_secret()
        if out is None:
            typer.echo(secret)
            return
        path = out / f"{name}.key"
        _write(path, secret + "\n", PRIVATE_MODE)
        typer.echo(f"wrote {path} (mode 600): set {name.upper()}_TOKEN_SIGNING_KEY_FILE={path}")
        return
    if out is None:
        raise _fail("a key pair is written to files: give --out DIRECTORY", 2)
    private, public = pem_pair(private_key(algorithm))
    private_path, public_path = out / f"{name}.pem", out / f"{name}.pub.pem"
    _write(private_path, private, PRIVATE_MODE)
    _write(public_path, public, PUBLIC_MODE)
    typer.echo(f"wrote {private_path} (mode 600) and {public_path}")
    typer.echo(
        f"set JWT_ALGORITHM={algorithm} {name.upper()}_TOKEN_SIGNING_KEY_FILE={private_path}"
    )


def _write(path: Path, text: str, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_new_file(path, text, mode)
    except FileExistsError:
        raise _fail(f"{path} exists; keys are never overwritten") from None
    except OSError as e:
        raise _fail(f"cannot write {path}: {e.strerror}") from None


@users_cli.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    role: Annotated[
        list[str] | None, typer.Option("--role", help="A role; repeat for several.")
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from the first line of stdin (scripts).")
    ] = False,
) -> None:
    """Create a user (default role: user); the password is prompted for, never an argument."""
    from app.cli.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    roles = role or ["user"]
    user = _run(
        create_user(settings, email=email, password=password, roles=roles, full_name=full_name),
    )
    typer.echo(f"created user {user.id} {user.email} roles={','.join(user.roles)}")


@sessions_cli.command("revoke")
def sessions_revoke(
    session_id: Annotated[
        uuid.UUID | None, typer.Argument(help="The session to revoke (its `sid`).")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Revoke every live session of this email.")
    ] = None,
) -> None:
    """Revoke one session, or with --user all of a user's live sessions."""
    from app.cli.accounts import revoke_session, revoke_user_sessions

    if (session_id is None) == (user is None):
        raise _fail("give a SESSION_ID or --user EMAIL (one of them)", 2)
    settings = get_settings()
    if user is not None:
        count = _run(revoke_user_sessions(settings, user))
        typer.echo(f"revoked {count} session(s) of {user}")
    elif session_id is not None:
        _run(revoke_session(settings, session_id))
        typer.echo(f"revoked session {session_id}")
