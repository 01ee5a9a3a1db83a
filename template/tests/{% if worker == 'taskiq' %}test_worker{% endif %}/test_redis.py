"""The worker and the rate limits against the tests' real Redis server."""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import async_shared_broker
from taskiq.api import run_receiver_task
from taskiq_redis import ListQueueBroker

from src.core.config import get_settings
from src.core.logging import request_id_var
from src.core.security import hash_refresh_token
from src.db import counters as counters_module
from src.db.models import RefreshToken, User
from src.db.redis import redis_client
from src.db.repositories.redis_rate_limit import KEY_PREFIX, RedisRateLimitCounters
from src.db.session import Transactions
from src.worker import tasks
from src.worker.broker import RETRIES_PREFIX, build_broker
from tests.conftest import PASSWORD


@pytest.fixture
async def worker(transactions: Transactions) -> AsyncIterator[ListQueueBroker]:
    """The service's Redis broker, with a worker receiving from it in this process (in a
    context of its own, as a worker process has: no request id in it)."""
    broker = build_broker(get_settings())
    broker.dependency_overrides[tasks.get_transactions] = lambda: transactions
    await broker.startup()
    async_shared_broker.default_broker(broker)
    receiving = asyncio.create_task(run_receiver_task(broker))
    yield broker
    receiving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await receiving
    await broker.shutdown()


async def test_a_task_goes_through_redis_to_the_worker_with_its_request_id(
    worker: ListQueueBroker,
    session: AsyncSession,
    user: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expired = datetime.now(UTC) - timedelta(seconds=1)
    session.add(
        RefreshToken(
            user_id=user.id, token_hash=hash_refresh_token(uuid.uuid4().hex), expires_at=expired
        )
    )
    await session.flush()
    caplog.set_level(logging.INFO, logger="src.worker")

    token = request_id_var.set("sent-through-redis")
    try:
        task = await tasks.purge_expired.kiq()
    finally:
        request_id_var.reset(token)
    result = await task.wait_result(timeout=10)

    assert not result.is_err, result.error
    assert result.return_value["refresh_tokens"] >= 1
    [line] = [record for record in caplog.records if record.name == "src.worker"]
    assert getattr(line, "task_id", None) == task.task_id
    assert getattr(line, "request_id", None) == "sent-through-redis"


async def test_a_failed_task_waits_in_redis_for_its_retry_with_its_request_id(
    worker: ListQueueBroker,
) -> None:
    failed = asyncio.Event()

    @worker.task(task_name=f"always-fails-{uuid.uuid4().hex}")
    async def always_fails() -> None:
        failed.set()
        raise ConnectionError("the service it calls is down")

    token = request_id_var.set("retried-request")
    try:
        task = await always_fails.kiq()
    finally:
        request_id_var.reset(token)
    async with asyncio.timeout(10):
        await failed.wait()
        while not (retries := await _waiting_retries()):  # noqa: ASYNC110 - polls Redis
            await asyncio.sleep(0.05)

    [retry] = retries
    assert retry["task_name"] == always_fails.task_name
    assert retry["task_id"] == task.task_id
    assert retry["labels"]["request_id"] == "retried-request"
    assert int(retry["labels"]["_retries"]) == 1
    wait = datetime.fromisoformat(retry["time"]) - datetime.now(UTC)
    assert wait > timedelta(seconds=get_settings().task_retry_delay_seconds - 5)


async def _waiting_retries() -> list[dict[str, Any]]:
    schedules = []
    async for key in redis_client.scan_iter(match=f"{RETRIES_PREFIX}:data:*"):
        data = await redis_client.get(key)
        assert data is not None
        schedules.append(json.loads(data))
    return schedules


async def test_rate_limit_windows_in_redis_end_by_themselves() -> None:
    counters = RedisRateLimitCounters(redis_client)
    now = datetime.now(UTC)
    window = timedelta(milliseconds=300)

    first = await counters.hit("test:window", now=now, window_ends_at=now + window)
    second = await counters.hit("test:window", now=now, window_ends_at=now + 10 * window)
    await asyncio.sleep(0.4)
    later = datetime.now(UTC)
    after = await counters.hit("test:window", now=later, window_ends_at=later + window)

    assert first == (1, first[1])
    assert first[1] <= now + window
    # The second attempt joins the first one's window; it does not stretch it.
    assert second[0] == 2
    assert second[1] <= now + window
    assert after[0] == 1
    assert after[1] > later


async def test_forgiving_never_counts_below_zero_and_resetting_forgets() -> None:
    counters = RedisRateLimitCounters(redis_client)
    now = datetime.now(UTC)
    ends = now + timedelta(minutes=1)

    await counters.forgive("test:never-hit")
    await counters.hit("test:hit", now=now, window_ends_at=ends)
    await counters.hit("test:hit", now=now, window_ends_at=ends)
    await counters.forgive("test:hit")
    hits, _ = await counters.hit("test:hit", now=now, window_ends_at=ends)
    await counters.reset("test:hit")

    assert hits == 2
    assert await redis_client.exists(f"{KEY_PREFIX}test:never-hit") == 0
    assert await redis_client.exists(f"{KEY_PREFIX}test:hit") == 0


async def test_concurrent_attempts_from_two_connections_are_all_counted() -> None:
    # Two clients with pools of their own, as two replicas have.
    other = Redis.from_url(get_settings().redis_url)
    try:
        replicas = [RedisRateLimitCounters(redis_client), RedisRateLimitCounters(other)]
        now = datetime.now(UTC)
        ends = now + timedelta(minutes=1)

        results = await asyncio.gather(
            *(replicas[i % 2].hit("test:burst", now=now, window_ends_at=ends) for i in range(50))
        )
    finally:
        await other.aclose()

    assert sorted(hits for hits, _ in results) == list(range(1, 51))


async def test_logins_answer_503_while_redis_is_unreachable(
    client: AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on the loopback interface: nothing listens there, connections are refused.
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    monkeypatch.setattr(counters_module, "redis_client", unreachable)
    try:
        response = await client.post(
            "/api/auth/token", data={"username": user.email, "password": PASSWORD}
        )
    finally:
        await unreachable.aclose()

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
