"""The tasks and their middlewares, run in-process by taskiq's in-memory broker."""

import contextvars
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import (
    BrokerMessage,
    InMemoryBroker,
    SmartRetryMiddleware,
    TaskiqMessage,
    async_shared_broker,
)
from taskiq.schedule_sources import LabelScheduleSource

from src.core.config import get_settings
from src.core.logging import request_id_var
from src.core.security import hash_refresh_token
from src.db.models import RateLimitCounter, RefreshToken, User
from src.worker.broker import RetrySchedule, broker
from src.worker.middleware import REQUEST_ID_LABEL, RequestIdMiddleware
from src.worker.scheduler import scheduler
from src.worker.tasks import PURGE_SCHEDULE_ID, purge_expired


async def _add_expired_rows(session: AsyncSession, user: User) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    session.add_all(
        [
            RefreshToken(
                user_id=user.id, token_hash=hash_refresh_token(uuid.uuid4().hex), expires_at=past
            ),
            RateLimitCounter(key=f"test:ended:{user.id}", hits=3, window_ends_at=past),
        ]
    )
    await session.flush()


async def _expired_rows(session: AsyncSession) -> tuple[int, int]:
    now = datetime.now(UTC)
    tokens = await session.scalar(
        select(func.count()).select_from(RefreshToken).where(RefreshToken.expires_at <= now)
    )
    counters = await session.scalar(
        select(func.count())
        .select_from(RateLimitCounter)
        .where(RateLimitCounter.window_ends_at <= now)
    )
    return tokens or 0, counters or 0


async def test_the_purge_task_deletes_what_has_expired(
    session: AsyncSession, user: User, task_broker: InMemoryBroker
) -> None:
    await _add_expired_rows(session, user)

    task = await purge_expired.kiq()
    result = await task.wait_result(timeout=10)

    assert not result.is_err, result.error
    assert result.return_value["refresh_tokens"] >= 1
    assert result.return_value["rate_limit_counters"] >= 1
    assert await _expired_rows(session) == (0, 0)


async def test_a_superuser_enqueues_the_purge_and_the_worker_logs_it_with_the_request_id(
    client: AsyncClient,
    session: AsyncSession,
    superuser: User,
    superuser_headers: dict[str, str],
    task_broker: InMemoryBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _add_expired_rows(session, superuser)
    caplog.set_level(logging.INFO, logger="src.worker")

    response = await client.post(
        "/api/admin/purge-expired",
        headers={**superuser_headers, "X-Request-ID": "purge-request-1"},
    )

    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert await _expired_rows(session) == (0, 0)
    [line] = [record for record in caplog.records if record.name == "src.worker"]
    assert line.levelno == logging.INFO
    assert (line.task, line.task_id, line.request_id) == (  # type: ignore[attr-defined]
        "purge_expired",
        task_id,
        "purge-request-1",
    )


async def test_only_superusers_may_enqueue_the_purge(
    client: AsyncClient,
    user_headers: dict[str, str],
    task_broker: InMemoryBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []

    async def kick(message: BrokerMessage) -> None:
        sent.append(message.task_name)

    monkeypatch.setattr(task_broker, "kick", kick)

    anonymous = await client.post("/api/admin/purge-expired")
    member = await client.post("/api/admin/purge-expired", headers=user_headers)

    assert (anonymous.status_code, member.status_code) == (401, 403)
    assert sent == []


async def test_the_purge_answers_503_while_redis_is_unreachable(
    client: AsyncClient,
    superuser_headers: dict[str, str],
    task_broker: InMemoryBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unreachable(message: BrokerMessage) -> None:
        raise RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(task_broker, "kick", unreachable)

    response = await client.post("/api/admin/purge-expired", headers=superuser_headers)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "redis" not in response.text.lower()


async def test_a_failed_task_is_retried_and_each_outcome_logged_with_the_request_id(
    task_broker: InMemoryBroker, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[int] = []

    @task_broker.task(task_name=f"flaky-{uuid.uuid4().hex}")
    async def flaky() -> str:
        runs.append(len(runs) + 1)
        if len(runs) == 1:
            raise ConnectionError("the first run fails")
        return "done"

    caplog.set_level(logging.INFO, logger="src.worker")
    token = request_id_var.set("flaky-request")
    try:
        await flaky.kiq()
    finally:
        request_id_var.reset(token)

    assert runs == [1, 2]
    lines = [record for record in caplog.records if record.name == "src.worker"]
    assert [(line.levelno, getattr(line, "attempt", None)) for line in lines] == [
        (logging.ERROR, 1),
        (logging.INFO, None),
    ]
    assert lines[0].exc_info is not None
    assert {getattr(line, "request_id", None) for line in lines} == {"flaky-request"}


def test_retries_wait_longer_each_time_up_to_the_maximum(task_broker: InMemoryBroker) -> None:
    settings = get_settings()
    [retry] = [
        middleware
        for middleware in task_broker.middlewares
        if isinstance(middleware, SmartRetryMiddleware)
    ]
    message = TaskiqMessage(task_id="t", task_name="n", labels={}, args=[], kwargs={})

    delays = [retry.make_delay(message, attempt) for attempt in (1, 2, 100)]

    assert settings.task_retry_delay_seconds <= delays[0] < delays[1]
    assert delays[1] >= 2 * settings.task_retry_delay_seconds
    assert delays[2] < settings.task_retry_max_delay_seconds + 1
    assert retry.default_retry_count == settings.task_max_attempts


def test_the_request_id_travels_as_a_label_and_is_set_again_in_the_worker() -> None:
    middleware = RequestIdMiddleware()
    message = TaskiqMessage(task_id="t", task_name="n", labels={}, args=[], kwargs={})

    token = request_id_var.set("sent-from-a-request")
    try:
        sent = middleware.pre_send(message)
    finally:
        request_id_var.reset(token)
    assert sent.labels[REQUEST_ID_LABEL] == "sent-from-a-request"

    # The worker runs each message in a context of its own, where the id is set again.
    worker = contextvars.Context()
    worker.run(middleware.pre_execute, sent)
    assert worker.run(request_id_var.get) == "sent-from-a-request"
    assert request_id_var.get() is None


async def test_the_scheduler_sends_the_purge_on_its_schedule_and_the_retries() -> None:
    [labels, retries] = scheduler.sources
    assert isinstance(labels, LabelScheduleSource)
    assert isinstance(retries, RetrySchedule)
    assert scheduler.broker is broker
    source = LabelScheduleSource(async_shared_broker)
    await source.startup()

    schedules = {schedule.schedule_id: schedule for schedule in await source.get_schedules()}

    assert schedules[PURGE_SCHEDULE_ID].task_name == purge_expired.task_name
    assert schedules[PURGE_SCHEDULE_ID].cron == get_settings().purge_schedule
