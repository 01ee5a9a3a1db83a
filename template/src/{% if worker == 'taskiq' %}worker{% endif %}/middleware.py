"""Tasks carry the id of the request that enqueued them, and log how they ended with it."""

import logging

from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from src.core.logging import request_id_var

REQUEST_ID_LABEL = "request_id"

logger = logging.getLogger("src.worker")


class RequestIdMiddleware(TaskiqMiddleware):
    """Sends the request id along as a task label, and logs each outcome in the worker.

    In the worker the id is also set for the task's own log lines (the JSON formatter
    adds it to each of them). Every message runs in an asyncio task of its own, so the
    id set for one never leaks into another.
    """

    def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        request_id = request_id_var.get()
        if request_id is not None:
            message.labels.setdefault(REQUEST_ID_LABEL, request_id)
        return message

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        request_id_var.set(_request_id(message))
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[object]) -> None:
        if result.is_err:
            return  # logged by on_error, which sees the error before a retry replaces it
        logger.info(
            "task %s succeeded in %.2f s",
            message.task_name,
            result.execution_time,
            extra=_fields(message) | {"result": result.return_value},
        )

    def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[object], exception: BaseException
    ) -> None:
        logger.error(
            "task %s failed: %s",
            message.task_name,
            exception,
            exc_info=exception,
            extra=_fields(message) | {"attempt": int(message.labels.get("_retries", 0)) + 1},
        )


def _request_id(message: TaskiqMessage) -> str | None:
    value = message.labels.get(REQUEST_ID_LABEL)
    return str(value) if value is not None else None


def _fields(message: TaskiqMessage) -> dict[str, object]:
    return {
        "task": message.task_name,
        "task_id": message.task_id,
        "request_id": _request_id(message),
    }
