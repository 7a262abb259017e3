"""Logging for the command line: who speaks at which -v, in which format, with what redacted.

pmo-sync's own loggers (``pmosync.*``) say what each stage does at ``-v``; the libraries under
them (alembic, urllib3, msal, requests_ntlm) stay quiet until ``-vv`` (info) and ``-vvv``
(debug), because at debug level urllib3 logs full URLs and msal logs token-cache traffic.
Timestamps are added when stderr is not a terminal (cron, systemd, a container log), and
``--log-format json`` writes one JSON object per line for log shippers.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pmosync.redact import RedactingFilter

LogFormat = Literal["text", "json"]

# Libraries whose logs only help when a person asks twice or three times.
THIRD_PARTY = ("alembic", "urllib3", "msal", "requests_ntlm", "sqlalchemy", "werkzeug", "jira")
_HANDLER_NAME = "pmo-sync-cli"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message [, exc]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def levels(verbose: int, quiet: bool) -> tuple[int, int]:
    """(pmo-sync level, third-party level) for a -v count and --quiet."""
    if quiet:
        return logging.ERROR, logging.ERROR
    own = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    other = {0: logging.WARNING, 1: logging.WARNING, 2: logging.INFO}.get(verbose, logging.DEBUG)
    return own, other


def configure(
    verbose: int = 0,
    *,
    quiet: bool = False,
    log_format: LogFormat = "text",
    stream: TextIO | None = None,
    timestamps: bool | None = None,
) -> logging.Handler:
    """Install the one CLI handler on the root logger (replacing an earlier one)."""
    stream = stream or sys.stderr
    if timestamps is None:
        timestamps = not _isatty(stream)
    own, other = levels(verbose, quiet)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        prefix = "%(asctime)s " if timestamps else ""
        handler.setFormatter(logging.Formatter(prefix + "%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(min(own, other))
    logging.getLogger("pmosync").setLevel(own)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(other)
    return handler


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
