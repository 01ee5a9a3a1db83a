"""Management commands.

- `python -m src.cli create-superuser EMAIL`: the password is read from SUPERUSER_PASSWORD
  when set, otherwise asked for twice.
- `python -m src.cli purge-tokens`: delete expired refresh tokens and ended rate-limit
  windows; run it periodically (a daily cron job or scheduled task).
- `python -m src.cli wait-for-migrations`: wait until the database has every migration of
  this release (exit 0), or give up after `--timeout` seconds (exit 1). Replicas run it
  before they start, while the migrations themselves run once, elsewhere.
"""

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.config import get_settings
from src.db.engine import build_engine
from src.db.session import SessionLocal, engine
from src.schemas.user import Email, Password
from src.services.maintenance import purge_tokens
from src.services.user import create_first_superuser

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def _read_password() -> str:
    password = os.environ.get("SUPERUSER_PASSWORD")
    if password:
        return password
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise ValueError("the passwords do not match")
    return password


async def _create_superuser(email: str, password: str) -> bool:
    try:
        return await create_first_superuser(SessionLocal, email, password)
    finally:
        await engine.dispose()


async def _purge_tokens() -> tuple[int, int]:
    try:
        return await purge_tokens()
    finally:
        await engine.dispose()


def migration_scripts() -> ScriptDirectory:
    """The migrations this release ships (alembic/versions)."""
    return ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))


def is_migrated(scripts: ScriptDirectory, applied: Collection[str]) -> bool:
    """Whether a database whose `alembic_version` holds *applied* has every migration of
    *scripts*.

    A revision that *scripts* do not know comes from a newer release, whose migrations ran
    after this one's: that database counts as migrated, so that the previous release can
    still start while a rollout is under way or undone.
    """
    if not applied:
        return False
    known = {script.revision for script in scripts.walk_revisions()}
    if not set(applied) <= known:
        return True
    done = {script.revision for script in scripts.iterate_revisions(tuple(applied), "base")}
    return set(scripts.get_heads()) <= done


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


async def database_revisions(engine: AsyncEngine) -> set[str]:
    """The revisions recorded in the database's `alembic_version` (none before the first)."""
    async with engine.connect() as connection:
        return set(await connection.run_sync(_current_heads))


async def wait_for_migrations(
    engine: AsyncEngine, scripts: ScriptDirectory, interval: float = 2.0
) -> None:
    """Return once the database is migrated, checking every *interval* seconds; an
    unreachable database is waited for too. Bound it with `asyncio.timeout`."""
    said = ""
    while True:
        try:
            if is_migrated(scripts, await database_revisions(engine)):
                return
            reason = "the migrations of this release have not run yet"
        except (OSError, SQLAlchemyError) as exc:
            reason = f"the database is not reachable ({exc.__class__.__name__})"
        if reason != said:
            print(f"waiting: {reason}", flush=True)
            said = reason
        await asyncio.sleep(interval)


async def _wait_for_migrations(seconds: float, interval: float) -> bool:
    waiting = build_engine(get_settings())
    try:
        async with asyncio.timeout(seconds):
            await wait_for_migrations(waiting, migration_scripts(), interval)
    except TimeoutError:
        return False
    finally:
        await waiting.dispose()
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create a superuser account")
    create.add_argument("email")
    commands.add_parser(
        "purge-tokens", help="delete expired refresh tokens and ended rate-limit windows"
    )
    wait = commands.add_parser(
        "wait-for-migrations", help="wait until the database has every migration of this release"
    )
    wait.add_argument("--timeout", type=float, default=600.0, help="seconds (default: 600)")
    wait.add_argument("--interval", type=float, default=2.0, help="seconds between checks")
    args = parser.parse_args(argv)

    if args.command == "wait-for-migrations":
        if not asyncio.run(_wait_for_migrations(args.timeout, args.interval)):
            print(f"error: not migrated after {args.timeout:g} seconds", file=sys.stderr)
            return 1
        print("the database is migrated")
        return 0

    if args.command == "purge-tokens":
        tokens, counters = asyncio.run(_purge_tokens())
        print(f"deleted {tokens} expired refresh tokens and {counters} rate-limit counters")
        return 0

    try:
        email = TypeAdapter(Email).validate_python(args.email)
        password = TypeAdapter(Password).validate_python(_read_password())
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if not asyncio.run(_create_superuser(email, password)):
        print(f"error: a user with the email {email} already exists", file=sys.stderr)
        return 1
    print(f"created superuser {email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
