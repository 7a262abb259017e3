"""Day-2 operations through the real commands against two Airtable emulators: a conflict held
for a person (its own exit code, typed --value, reopen), a write a tool keeps refusing (outbox
list | drop | retry), the notification of both (a local SMTP server and a local HTTP
receiver), and the stored run report (`runs show`)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from pmosync.cli import EXIT_CONFIG, EXIT_HELD, EXIT_OK, EXIT_PARTIAL, main
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sandbox.scenarios.airtable_pmo import BASE_ID

TODAY = date(2026, 11, 20)


class Inbox:
    """aiosmtpd handler: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class Receivers:
    inbox: Inbox
    smtp_port: int
    posts: list[dict[str, Any]]
    hook_url: str


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    posts: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receivers(inbox, port, posts, f"http://127.0.0.1:{server.server_address[1]}/hook")
    finally:
        server.shutdown()
        controller.stop()


@dataclass
class Ops:
    sandbox: Sandbox
    config: Path
    env: dict[str, str]

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "-c", str(self.config)], env=self.env)

    def sync(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.run("sync", "--json", "--today", TODAY.isoformat(), *args)
        return result.exit_code, json.loads(result.stdout)

    def emulator(self, name: str) -> Any:
        return self.sandbox.services[name].emulator


@pytest.fixture
def ops(tmp_path: Path, receivers: Receivers) -> Iterator[Ops]:
    services = []
    for name in ("pmo_a", "pmo_b"):
        [spec] = airtable_pmo.services(name=name, projects=4, today=TODAY)
        assert spec.connection is not None and spec.mapping is not None
        spec.connection["lockout_seconds"] = 1
        spec.emulator.configure({"lockout_seconds": 1})
        spec.mapping["entities"]["project"]["fields"]["status"]["conflict"] = "hold"
        services.append(spec)
    scenario = Scenario(services=services, portfolio={"name": "Ops test", "timezone": "UTC"})
    sandbox = Sandbox(scenario, tmp_path / "sb").start()
    yaml = YAML()
    config = yaml.load(sandbox.config_path.read_text())
    config["notify"] = {
        "webhooks": [{"format": "json", "url_env": "PMOSYNC_TEST_HOOK"}],
        "email": {
            "host": "127.0.0.1",
            "port": receivers.smtp_port,
            "security": "none",
            "sender": "pmo-sync@example.com",
            "to": ["pmo@example.com"],
        },
    }
    with sandbox.config_path.open("w") as handle:
        yaml.dump(config, handle)
    try:
        yield Ops(sandbox, sandbox.config_path, {"PMOSYNC_TEST_HOOK": receivers.hook_url})
    finally:
        sandbox.stop()


def _project_pair(ops: Ops) -> tuple[dict[str, Any], dict[str, Any]]:
    rec_a = ops.emulator("pmo_a").records(BASE_ID, "Projects")[0]
    rec_b = next(
        r
        for r in ops.emulator("pmo_b").records(BASE_ID, "Projects")
        if r["fields"]["Code"] == rec_a["fields"]["Code"]
    )
    return rec_a, rec_b


def test_a_held_conflict_exits_7_notifies_once_and_is_resolved_with_a_typed_value(
    ops: Ops, receivers: Receivers
) -> None:
    code, first = ops.sync("--full")
    assert code == EXIT_OK, first
    assert receivers.posts == [] and receivers.inbox.messages == []  # nothing to say
    rec_a, rec_b = _project_pair(ops)
    label = f"{rec_a['fields']['Code']} {rec_a['fields']['Name']}"
    ops.emulator("pmo_a").edit_record(BASE_ID, "Projects", rec_a["id"], {"Status": "Done"})
    ops.emulator("pmo_b").edit_record(BASE_ID, "Projects", rec_b["id"], {"Status": "On hold"})
    code, held = ops.sync()
    assert code == EXIT_HELD, held
    # notified on both channels, naming the record and what each tool holds
    [post] = receivers.posts
    assert post["events"] == ["held"] and label in post["text"]
    assert "pmo_a done; pmo_b on hold" in post["text"]
    assert post["report"]["run_id"] == held["run_id"]
    [mail] = receivers.inbox.messages
    assert "1 conflict(s) held" in mail["Subject"] and "pmo-sync conflicts resolve" in str(
        mail.get_payload()
    )
    # still held next run: same exit code, but no second notification for the same conflict
    code, _ = ops.sync()
    assert code == EXIT_HELD and len(receivers.posts) == 1
    listed = ops.run("conflicts", "list", "--json")
    [conflict] = json.loads(listed.stdout)
    assert conflict["record"] == label and conflict["observed"] == {
        "pmo_a": "done",
        "pmo_b": "on_hold",
    }
    cid = str(conflict["id"])
    text = ops.run("conflicts", "list").output
    assert f"#{cid} project {label}, status: pmo_a done; pmo_b on hold" in text
    # a value that is not a status is refused before it is stored, saying what is accepted
    bad = ops.run("conflicts", "resolve", cid, "--value", "someday")
    assert bad.exit_code == EXIT_CONFIG
    assert "not a valid project status" in bad.output and "'on_hold'" in bad.output
    ok = ops.run("conflicts", "resolve", cid, "--value", "active")
    assert ok.exit_code == 0 and "resolved to active" in ok.output
    # changed my mind: reopen, then take what pmo_a holds
    assert ops.run("conflicts", "reopen", cid).exit_code == 0
    assert "[resolved" not in ops.run("conflicts", "list").output
    assert ops.run("conflicts", "resolve", cid, "--take", "pmo_a").exit_code == 0
    code, applied = ops.sync()
    assert code == EXIT_OK and applied["writes_applied"] == 1, applied
    assert ops.run("conflicts", "list").output.strip() == "no open conflicts"
    # a reopen of an applied conflict is possible, a reopen of an open one is not
    again = ops.run("conflicts", "reopen", cid)
    assert again.exit_code == 0
    assert ops.run("conflicts", "reopen", cid).exit_code == EXIT_CONFIG


def test_a_refused_write_is_listed_dropped_and_retried(ops: Ops, receivers: Receivers) -> None:
    assert ops.sync("--full")[0] == EXIT_OK
    rec_a, rec_b = _project_pair(ops)
    ops.emulator("pmo_a").edit_record(
        BASE_ID, "Projects", rec_a["id"], {"Finish date": "2027-03-31"}
    )
    # Airtable answers a write it cannot take with 422 and an error object (errors.py);
    # reads keep working, so the run goes on and is partial
    refusal = {
        "status": 422,
        "count": 1000,
        "method": "PATCH",
        "path_prefix": f"/v0/{BASE_ID}",
        "body": {
            "error": {
                "type": "INVALID_VALUE_FOR_COLUMN",
                "message": 'Field "Finish date" cannot accept the provided value',
            }
        },
    }
    ops.emulator("pmo_b").faults.set({"burst": refusal})
    code, partial = ops.sync()
    assert code == EXIT_PARTIAL, partial
    assert partial["connections"]["pmo_b"]["writes_failed"] >= 1
    [post] = receivers.posts
    assert post["events"] == ["partial"] and "outbox list" in post["text"]
    code, _ = ops.sync()  # it fails again: the outbox shows one write, failed twice
    assert code == EXIT_PARTIAL
    listed = ops.run("outbox", "list", "--json")
    [row] = json.loads(listed.stdout)
    label = f"{rec_a['fields']['Code']} {rec_a['fields']['Name']}"
    assert row["connection"] == "pmo_b" and row["record"] == label and row["failures"] == 2
    assert {"field": "planned_finish", "new": "2027-03-31"}.items() <= row["changes"][0].items()
    text = ops.run("outbox", "list").output
    assert f"#{row['id']} pmo_b {label}: planned_finish → 31 Mar 2027 (failed 2 times)" in text
    assert "INVALID_VALUE_FOR_COLUMN" in text or "cannot accept" in text
    # drop it: the next run leaves that change out and succeeds
    assert ops.run("outbox", "drop", str(row["id"])).exit_code == 0
    code, dropped = ops.sync()
    assert code == EXIT_OK, dropped
    assert any("dropped" in n for n in dropped["notices"]) and dropped["writes_applied"] == 0
    assert ops.run("outbox", "list").output.strip() == "no failed writes"
    # the tool is fixed: retry takes the drop back and writes it now
    ops.emulator("pmo_b").faults.clear()
    retried = ops.run("outbox", "retry", str(row["id"]))
    assert retried.exit_code == EXIT_OK, retried.output
    assert "retrying 1 write(s) through a sync of pmo_b" in retried.output
    assert f"pmo_b {label}: planned_finish: " in retried.output
    assert "→ 31 Mar 2027" in retried.output
    b_now = next(
        r for r in ops.emulator("pmo_b").records(BASE_ID, "Projects") if r["id"] == rec_b["id"]
    )
    assert b_now["fields"]["Finish date"] == "2027-03-31"
    assert ops.run("outbox", "list").output.strip() == "no failed writes"
    # every run is stored and opens again, as text and JSON
    runs = json.loads(ops.run("runs", "--json").stdout)
    assert [r["status"] for r in runs[:4]] == ["ok", "ok", "partial", "partial"]
    shown = ops.run("runs", "show", str(runs[2]["id"]))
    assert shown.exit_code == 0 and f"run {runs[2]['id']}: partial" in shown.output
    assert f"pmo_b {label}: planned_finish:" in shown.output  # what it tried to write
    as_json = json.loads(ops.run("runs", "show", "latest", "--json").stdout)
    assert as_json["run_id"] == runs[0]["id"]
    assert ops.run("runs", "show", "999").exit_code == EXIT_CONFIG


def test_sync_verbose_lists_writes_and_logs_stages_quiet_prints_nothing(ops: Ops) -> None:
    assert ops.sync("--full")[0] == EXIT_OK
    rec_a, _ = _project_pair(ops)
    ops.emulator("pmo_a").edit_record(BASE_ID, "Projects", rec_a["id"], {"Finish date": None})
    verbose = CliRunner().invoke(
        main,
        ["-v", "--log-format", "json", "sync", "-c", str(ops.config), "--today", "2026-11-20"],
        env=ops.env,
    )
    assert verbose.exit_code == 0, verbose.output
    label = f"{rec_a['fields']['Code']} {rec_a['fields']['Name']}"
    assert "writes: 1 write(s)" in verbose.stdout
    assert f"pmo_b {label}: planned_finish:" in verbose.stdout and "→ —" in verbose.stdout
    logs = [json.loads(line) for line in verbose.stderr.splitlines() if line.startswith("{")]
    stages = [e["message"] for e in logs if e["logger"] == "pmosync.sync"]
    assert any(m.startswith("pull: reading changed records") for m in stages)
    assert any(m.startswith("apply: done in") for m in stages)
    assert not any(e["logger"].startswith(("alembic", "urllib3")) for e in logs)
    quiet = CliRunner().invoke(main, ["--quiet", "sync", "-c", str(ops.config)], env=ops.env)
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
