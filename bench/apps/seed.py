"""Insert BENCH_ROWS users with the project's own models: an admin, a user and the rest.

    python -m bench_apps.seed

Every row shares one password hash at the service's default argon2 parameters.
"""

import asyncio
import os

from src.core.security import hash_password
from src.db.models import User
from src.db.session import SessionLocal, engine


async def seed() -> None:
    hashed = await hash_password(os.environ["BENCH_PASSWORD"])
    users = [
        User(email=os.environ["BENCH_ADMIN"], hashed_password=hashed, is_superuser=True),
        User(email=os.environ["BENCH_USER"], hashed_password=hashed, full_name="Bench User"),
    ]
    rows = int(os.environ["BENCH_ROWS"])
    users += [
        User(email=f"user{n:04d}@example.com", hashed_password=hashed, full_name=f"User {n}")
        for n in range(rows - len(users))
    ]
    async with SessionLocal() as session:
        session.add_all(users)
        await session.commit()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(seed())
