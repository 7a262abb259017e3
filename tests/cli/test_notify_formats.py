"""Each webhook format as Slack and Teams read it, over a local HTTP receiver; a target that
cannot be reached is reported, the others still get the message, and no secret leaks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pmosync.config.notify import NotifyConfig
from pmosync.notify import build_notice, events_for, notify
from pmosync.sync.report import ConnectionReport, RunReport


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    posts: list[tuple[str, dict[str, Any]]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            posts.append((self.path, json.loads(body)))
            self.send_response(200 if self.path != "/gone" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posts
    finally:
        server.shutdown()


def _report() -> RunReport:
    report = RunReport(run_id=42, status="failed", started_at="2026-11-20T06:00:00+00:00")
    report.connections["delivery_jira"] = ConnectionReport(
        "delivery_jira",
        "jira",
        status="failed",
        error="[delivery_jira] the token was refused (HTTP 401)",
        error_kind="auth",
    )
    return report


def test_slack_and_teams_get_their_shapes_and_a_dead_target_is_reported(
    receiver: tuple[str, list[tuple[str, dict[str, Any]]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, posts = receiver
    monkeypatch.setenv("HOOK_SLACK", base + "/slack?token=s3cr3t-slack")
    monkeypatch.setenv("HOOK_TEAMS", base + "/teams")
    monkeypatch.setenv("HOOK_GONE", base + "/gone")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    # a webhook URL carries its token: an error reaching it must not print it
    monkeypatch.setenv("HOOK_DOWN", f"http://127.0.0.1:{closed_port}/hook?token=s3cr3t-down")
    config = NotifyConfig.model_validate(
        {
            "webhooks": [
                {"format": "slack", "url_env": "HOOK_SLACK"},
                {"format": "teams", "url_env": "HOOK_TEAMS"},
                {"format": "json", "url_env": "HOOK_GONE"},
                {"format": "slack", "url_env": "HOOK_DOWN", "timeout_seconds": 2},
            ],
            "email": {
                "host": "127.0.0.1",
                "port": closed_port,
                "security": "none",
                "sender": "a@example.com",
                "to": ["b@example.com"],
                "timeout_seconds": 2,
            },
        }
    )
    report = _report()
    events = events_for(report, [], list(config.on))
    assert events == ["failed"]
    notice = build_notice("Contoso PMO", report, [], events)
    assert notice.subject == "pmo-sync Contoso PMO: run 42 failed"
    assert "pmo-sync doctor" in notice.text and "runs show 42" in notice.text
    errors = notify(config, notice)
    by_path = {path.split("?")[0]: body for path, body in posts}
    assert by_path["/slack"]["text"].startswith("*pmo-sync Contoso PMO: run 42 failed*")
    teams = by_path["/teams"]
    assert teams["@type"] == "MessageCard" and teams["title"] == notice.subject
    assert teams["themeColor"] == "D13438"
    assert len(errors) == 3  # the 404 receiver, the dead webhook and the SMTP port, each named
    assert any("answered 404" in e for e in errors)
    assert any("notify webhook: ConnectionError" in e for e in errors)
    assert any(f"e-mail via 127.0.0.1:{closed_port}" in e for e in errors)
    assert not any("s3cr3t-down" in e for e in errors)


def test_only_the_configured_events_notify() -> None:
    ok = RunReport(run_id=1, status="ok")
    held = [{"canonical_id": "x", "field": "status", "entity_type": "project"}]
    assert events_for(ok, [], ["failed", "partial", "held"]) == []
    assert events_for(ok, held, ["failed", "partial", "held"]) == ["held"]
    assert events_for(ok, held, ["failed"]) == []
    partial = RunReport(run_id=2, status="partial")
    assert events_for(partial, held, ["partial", "held"]) == ["partial", "held"]
