"""The engine, the session factory and the gate in front of the connection pool."""

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker

from src.core.config import get_settings
from src.db.engine import build_engine

engine = build_engine(get_settings())
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

# Caps the sessions checked out at once (at most the pool size). When the pool runs dry,
# a connection handed back can go to a request that has just arrived rather than to one
# that has waited longest, so under contention a few requests wait far longer than the
# rest. Waiting on this semaphore instead is first come, first served, which keeps the
# p99 latency close to the median under load. Used by `get_db` in src/api/deps.py.
checkout_gate = asyncio.Semaphore(get_settings().db_max_concurrency)
