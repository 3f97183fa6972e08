"""Log lines: one format for the whole process (text or JSON), and no secret in any of them.

:func:`logging_config` is the ``logging.config.dictConfig`` of the process: one handler on the
root logger, uvicorn's loggers sent to it, so that uvicorn's own lines share the gateway's
format. ``LOG_FORMAT=text`` (the default, for a terminal and ``make run``) prints
``time level logger: message key=value ...``; ``LOG_FORMAT=json`` (for production) prints one
JSON object per line (:class:`JsonFormatter`).

Structured facts travel in a record's ``fields`` mapping
(``log.info("graphql request", extra={"fields": {...}})``): JSON lines carry them as keys, text
lines append them as ``key=value``. Every line carries the id of the request being served
(:mod:`gateway.observability.request_id`) when there is one.

:func:`install_redaction` wraps the formatter of every handler configured so far (the root
logger's and uvicorn's), so that whatever a library logs, an exception's text included, passes
through :func:`gateway.redaction.redact` on its way out; :func:`logging_config` builds its
formatter already wrapped. Redaction runs on the finished line, JSON included: a secret is
replaced both verbatim and in its JSON-escaped spelling.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gateway.observability.request_id import current_request_id
from gateway.redaction import redact, spellings

if TYPE_CHECKING:
    from gateway.config import LogFormat

FIELDS = "fields"
"""The ``extra`` key holding a record's structured facts (a mapping of JSON-able values)."""

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then redacts the whole line."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = tuple(secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values replaced; setting them also covers their JSON-escaped spellings."""
        return self._secrets

    @secrets.setter
    def secrets(self, values: tuple[str, ...]) -> None:
        self._secrets = tuple(v for v in values if v)
        self._spellings = spellings(self._secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self._spellings)


class TextFormatter(logging.Formatter):
    """``time level logger: message``, then ``request_id`` (when serving a request) and the
    record's ``fields`` as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, FIELDS, None) or {}
        request_id = current_request_id()
        if request_id != "-" and "request_id" not in fields:
            # As in JSON lines: a line written while serving a request names it, so code below
            # the schema (kombo/) logs without knowing about requests.
            fields = {"request_id": request_id, **fields}
        if not fields:
            return line
        head, newline, tail = line.partition("\n")  # a traceback stays below the fields
        pairs = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        return f"{head} {pairs}{newline}{tail}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message``, the current
    ``request_id`` (when serving a request), the record's ``fields``, and ``exception`` (the
    traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id != "-":
            line["request_id"] = request_id
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            line.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))


def formatter(format: LogFormat = "text", secrets: Iterable[str] = ()) -> logging.Formatter:
    """The gateway's formatter for ``format``, already redacting ``secrets`` (a dictConfig
    factory: ``{"()": "gateway.observability.logs.formatter", "format": "json"}``)."""
    inner: logging.Formatter = JsonFormatter() if format == "json" else TextFormatter()
    return RedactingFormatter(inner, secrets)


def logging_config(
    format: LogFormat = "text", level: str = "info", secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """The process's ``dictConfig``, also given to uvicorn (``log_config=``) so that its
    workers configure themselves the same way: one stderr handler on the root logger, uvicorn's
    loggers propagating to it (its access log stays off: the gateway logs each request). The
    handler redacts ``secrets`` from the start."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "gateway": {
                "()": "gateway.observability.logs.formatter",
                "format": format,
                "secrets": list(secrets),
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "gateway",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level.upper(), "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # httpx's own line per request repeats the gateway's `upstream call` line (and its
            # URL holds every query parameter): shown at debug level only.
            "httpx": {"level": "DEBUG" if level.lower() == "debug" else "WARNING"},
        },
    }


def configure_logging(
    format: LogFormat = "text", level: str = "info", secrets: Iterable[str] = ()
) -> None:
    """Apply :func:`logging_config` to this process."""
    import logging.config

    logging.config.dictConfig(logging_config(format, level, secrets))


def install_redaction(secrets: Iterable[str]) -> None:
    """Wrap every configured handler's formatter (idempotent)."""
    known = tuple(s for s in secrets if s)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            current = handler.formatter or logging.Formatter()
            if isinstance(current, RedactingFormatter):
                current.secrets = tuple(dict.fromkeys(current.secrets + known))
            else:
                handler.setFormatter(RedactingFormatter(current, known))


def _utc_timestamp(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    text = str(value)
    return json.dumps(text) if not text or _NEEDS_QUOTES.search(text) else text


_NEEDS_QUOTES = re.compile(r'[\s"]')
"""What makes a text value quoted in a text line: a space of any kind, or a quote (one C scan;
the per-character test it replaces was a third of a line's formatting)."""
