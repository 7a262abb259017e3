"""The error hierarchy, grouped by what the caller should do next.

Only ``cli.py`` turns these into exit codes; everything else raises them with context.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "FatalConnectorError",
    "LockedError",
    "PmoSyncError",
    "RetriableError",
    "SkippableRecordError",
]


class PmoSyncError(Exception):
    """Root of every error pmo-sync raises on purpose."""

    def __init__(self, message: str, *, connection: str | None = None, record: str | None = None):
        self.connection = connection
        self.record = record
        prefix = ""
        if connection:
            prefix += f"[{connection}] "
        if record:
            prefix += f"{record}: "
        super().__init__(prefix + message)


class ConfigError(PmoSyncError):
    """A human must fix the configuration, a mapping or a missing prerequisite."""

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw: str | None):
        self.problems = problems or []
        super().__init__(message, **kw)  # type: ignore[arg-type]


class AuthError(ConfigError):
    """Credentials are missing, wrong, expired or lack a permission."""


class FatalConnectorError(PmoSyncError):
    """This connection cannot go on in this run (bad response, vanished field, server bug)."""


class RetriableError(FatalConnectorError):
    """Transient: rate limit, 5xx or dropped connection that outlasted the retry budget.

    It is a FatalConnectorError for this run (the connection stops, cursors stay put), but a
    later run is expected to succeed without human help.
    """


class SkippableRecordError(PmoSyncError):
    """One record is bad; quarantine it, count it and go on."""


class ConflictError(PmoSyncError):
    """The remote changed under us; the sync engine's conflict policy decides."""


class LockedError(PmoSyncError):
    """Another run holds the lock on this store."""
