"""Who speaks at which -v, timestamps when not on a terminal, JSON lines, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from pmosync.logging_setup import configure
from pmosync.redact import register_secret


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("pmosync", "alembic", "urllib3", "msal"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _emit() -> None:
    logging.getLogger("pmosync.sync").info("pull: reading")
    logging.getLogger("pmosync.sync").debug("details")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    logging.getLogger("urllib3.connectionpool").debug("GET /rest/api/2/field")


def test_v_gives_pmo_sync_stages_and_keeps_libraries_quiet() -> None:
    stream = io.StringIO()
    configure(1, stream=stream)
    _emit()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith("INFO pmosync.sync: pull: reading")
    # not a terminal (cron, systemd, a container): every line starts with a timestamp
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO", lines[0])


def test_vv_adds_library_info_and_vvv_debug() -> None:
    stream = Terminal()
    configure(2, stream=stream)
    _emit()
    text = stream.getvalue()
    assert "Running upgrade" in text and "details" in text and "GET /rest" not in text
    assert text.startswith("INFO pmosync.sync")  # a terminal: no timestamps
    stream = Terminal()
    configure(3, stream=stream)
    _emit()
    assert "GET /rest" in stream.getvalue()


def test_quiet_shows_errors_only_and_json_lines_are_redacted() -> None:
    stream = io.StringIO()
    configure(2, quiet=True, stream=stream)
    _emit()
    logging.getLogger("pmosync.notify").error("cannot send")
    assert stream.getvalue().splitlines() == [stream.getvalue().splitlines()[0]]
    assert "cannot send" in stream.getvalue()
    stream = io.StringIO()
    configure(1, log_format="json", stream=stream)
    register_secret("tok-123456789-secret")
    logging.getLogger("pmosync.sync").info("sent with %s", "tok-123456789-secret")
    [entry] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entry["level"] == "info" and entry["logger"] == "pmosync.sync"
    assert "tok-123456789-secret" not in entry["message"] and entry["time"].endswith("+00:00")
