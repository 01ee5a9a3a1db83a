"""The task broker: a Redis list as the queue, results kept in Redis for a day.

    taskiq worker --no-configure-logging src.worker.broker:broker src.worker.tasks
    taskiq scheduler --no-configure-logging src.worker.scheduler:scheduler src.worker.tasks

(one scheduler only). Both log JSON lines, as the service does.

The tasks (`src.worker.tasks`) are taskiq's shared tasks: they go to the default broker,
which importing this module makes the Redis one below. The tests put an in-memory
broker in its place.
"""

from taskiq import (
    AsyncBroker,
    ScheduleSource,
    SmartRetryMiddleware,
    TaskiqEvents,
    TaskiqState,
    async_shared_broker,
)
from taskiq.serializers import JSONSerializer
from taskiq_redis import ListQueueBroker, ListRedisScheduleSource, RedisAsyncResultBackend

from src.core.config import Settings, get_settings
from src.core.logging import configure_logging
from src.worker.middleware import RequestIdMiddleware

QUEUE_NAME = "tasks"
RETRIES_PREFIX = "tasks:retries"
RESULT_SECONDS = 24 * 60 * 60


class RetrySchedule(ListRedisScheduleSource):
    """Where failed tasks wait for their next attempt; the scheduler sends them on time.

    taskiq-redis's list source, which also lets its connections go at shutdown (the
    source as released leaves them open).
    """

    async def shutdown(self) -> None:
        await self._connection_pool.disconnect()
        await super().shutdown()


def retry_schedule(settings: Settings) -> RetrySchedule:
    return RetrySchedule(settings.redis_url, prefix=RETRIES_PREFIX, serializer=JSONSerializer())


def add_middlewares(
    broker: AsyncBroker, settings: Settings, retries: ScheduleSource | None
) -> None:
    """Retries with a growing delay (plus jitter), then the request-id logging.

    Without a schedule source (`retries=None`) a retry is sent again at once.
    """
    broker.add_middlewares(
        SmartRetryMiddleware(
            default_retry_count=settings.task_max_attempts,
            default_retry_label=True,
            default_delay=settings.task_retry_delay_seconds,
            use_jitter=True,
            use_delay_exponent=True,
            max_delay_exponent=settings.task_retry_max_delay_seconds,
            schedule_source=retries,
        ),
        # Added last, so its on_error runs first and logs the error a retry then replaces.
        RequestIdMiddleware(),
    )


def build_broker(settings: Settings) -> ListQueueBroker:
    broker = ListQueueBroker(settings.redis_url, queue_name=QUEUE_NAME).with_result_backend(
        RedisAsyncResultBackend(settings.redis_url, result_ex_time=RESULT_SECONDS)
    )
    retries = retry_schedule(settings)

    def log_json(_: TaskiqState) -> None:
        configure_logging(settings.log_level)

    async def close_retries(_: TaskiqState) -> None:
        await retries.shutdown()

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, log_json)
    broker.add_event_handler(TaskiqEvents.CLIENT_SHUTDOWN, close_retries)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, close_retries)
    add_middlewares(broker, settings, retries)
    return broker


broker = build_broker(get_settings())
async_shared_broker.default_broker(broker)
