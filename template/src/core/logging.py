"""Log lines that carry the id of the request being served: JSON for machines, plain
coloured lines for a person at a terminal."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "plain"]

# Set by the request-id middleware for the duration of each request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_HANDLER_NAME = "service"

# ANSI colours of the levels in plain lines.
_LEVEL_COLOURS = {"DEBUG": "36", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    # Attributes every LogRecord has; anything else came in through `extra=`
    # (uvicorn adds an ANSI-coloured copy of its message, which is dropped too).
    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
        "message",
        "asctime",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class PlainFormatter(logging.Formatter):
    """One readable line per record: time, level, logger, message, then the request id and
    the extra fields as key=value; the level in colour when *colour* is set."""

    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = f"{record.levelname:<8}"
        if self.colour and record.levelname in _LEVEL_COLOURS:
            level = f"\x1b[{_LEVEL_COLOURS[record.levelname]}m{level}\x1b[0m"
        extra = {
            key: value
            for key, value in record.__dict__.items()
            if key not in JsonFormatter._STANDARD and value is not None
        }
        request_id = extra.pop("request_id", None)
        fields = [f"request_id={request_id}"] if request_id else []
        fields += [f"{key}={value}" for key, value in extra.items()]
        line = " ".join([time, level, f"{record.name}:", record.getMessage(), *fields])
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(log_format: LogFormat, stream: TextIO) -> logging.Formatter:
    """The formatter *log_format* asks for; `auto` is plain lines when *stream* is a terminal
    (a person running `fastapi dev`) and JSON otherwise (containers, log collectors)."""
    if log_format == "auto":
        log_format = "plain" if stream.isatty() else "json"
    if log_format == "plain":
        return PlainFormatter(colour=stream.isatty())
    return JsonFormatter()


def configure_logging(level: str, log_format: LogFormat = "auto") -> None:
    """Send the service's and uvicorn's logs to stderr, in *log_format*."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    stream = getattr(handler, "stream", sys.stderr)
    handler.setFormatter(formatter_for(log_format, stream))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # The request-id middleware logs each request, with its id; uvicorn's line would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # The development reloader reports every changed file, the SQLite database included.
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
