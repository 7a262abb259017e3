"""Secrets never reach logs or messages: every resolved secret is registered here, and log
records and error texts pass through :func:`redact` on their way out.

Defence in depth: connectors already keep credentials out of their messages, but a client
library's exception text (``JIRAError`` prints request headers, ``Authorization`` included)
could still carry one into a log line.
"""

from __future__ import annotations

import base64
import logging
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"


def register_secret(value: str) -> None:
    """Remember a secret (and the forms it takes on the wire) so it can be masked."""
    if len(value) < 6:  # too short to mask without mangling ordinary text
        return
    forms = {value, base64.b64encode(value.encode()).decode()}
    with _lock:
        _secrets.update(forms)


def register_basic_auth(user: str, secret: str) -> None:
    """The Authorization header of HTTP basic auth is base64(user:secret)."""
    register_secret(secret)
    register_secret(base64.b64encode(f"{user}:{secret}".encode()).decode())


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks registered secrets in every record, arguments and tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
