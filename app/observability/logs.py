"""Logging for every process: plain text for people, or one JSON object per line (`VORONKA_LOG_JSON=true`)
carrying the request id, route and user of the request that caused the line."""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from app.observability.context import current_request

# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON object.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        info = current_request()
        if info is not None:
            record.request_id = info.request_id
            if not hasattr(record, "path"):
                record.method, record.path = info.method, info.path
            if info.route and not hasattr(record, "route"):
                record.route = info.route
            if info.user and not hasattr(record, "user"):
                record.user = info.user
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in ("color_message",):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [request {request_id}]" if request_id else text


def logging_config(*, json_lines: bool, level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for our loggers and uvicorn's (passed to uvicorn.run as log_config in every process)."""
    formatter = "json" if json_lines else "text"
    handler = {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["request"],
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Our access line (app.observability.middleware) says more; uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "spiff": {"level": "WARNING"},  # a line per task state change otherwise
        },
    }


def configure_logging(*, json_lines: bool, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(json_lines=json_lines, level=level))
