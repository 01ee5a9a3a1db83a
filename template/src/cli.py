"""Management commands.

- `python -m src.cli create-superuser EMAIL`: the password is read from SUPERUSER_PASSWORD
  when set, otherwise asked for twice.
- `python -m src.cli purge-tokens`: delete expired refresh tokens and ended rate-limit
  windows; run it periodically (a daily cron job or scheduled task).
"""

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from pydantic import TypeAdapter, ValidationError

from src.db.session import SessionLocal, engine
from src.schemas.user import Email, Password
from src.services.maintenance import purge_tokens
from src.services.user import create_first_superuser


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create a superuser account")
    create.add_argument("email")
    commands.add_parser(
        "purge-tokens", help="delete expired refresh tokens and ended rate-limit windows"
    )
    args = parser.parse_args(argv)

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
