"""The tasks the worker runs. Each is a shared task: `.kiq()` sends it to the default
broker (`src.worker.broker`), and calling it runs it in place.

Tasks open their units of work with `transaction()`, received through taskiq's
dependency injection (`get_transactions`), so the tests can put a rolled-back one in
its place as they do for requests.
"""

from taskiq import TaskiqDepends, async_shared_broker

from src.core.config import get_settings
from src.db.session import Transactions, transaction
from src.services.maintenance import purge_tokens
from src.worker import broker as _default  # noqa: F401 - makes the Redis broker the default

PURGE_SCHEDULE_ID = "purge-expired"


def get_transactions() -> Transactions:
    return transaction


TransactionsDep = TaskiqDepends(get_transactions)


@async_shared_broker.task(
    task_name="purge_expired",
    schedule=[{"cron": get_settings().purge_schedule, "schedule_id": PURGE_SCHEDULE_ID}],
)
async def purge_expired(
    transactions: Transactions = TransactionsDep,
) -> dict[str, int]:
    """Delete expired refresh tokens and ended rate-limit windows, as
    `python -m src.cli purge-tokens` does: on the schedule, or when a superuser asks."""
    tokens, counters = await purge_tokens(transactions=transactions)
    return {"refresh_tokens": tokens, "rate_limit_counters": counters}
