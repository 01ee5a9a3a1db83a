"""The scheduler: sends the periodic tasks (their `schedule` labels) and the retries
waiting in Redis when their time comes.

    taskiq scheduler --no-configure-logging src.worker.scheduler:scheduler src.worker.tasks

Run exactly one: two schedulers would send every periodic task twice.
"""

from taskiq import TaskiqScheduler, async_shared_broker
from taskiq.schedule_sources import LabelScheduleSource

from src.core.config import get_settings
from src.core.logging import configure_logging
from src.worker.broker import broker, retry_schedule

configure_logging(get_settings().log_level)

# Shared tasks belong to the shared broker, so their labels are read from it; what is
# due is sent through the Redis broker.
scheduler = TaskiqScheduler(
    broker,
    sources=[LabelScheduleSource(async_shared_broker), retry_schedule(get_settings())],
)
