"""A Jira epic waiting for a Project Server milestone that slipped, end to end through the real
clients against the emulators: the violation in the run report and in `whatif`, the remote link
and the computed fields written back to Jira, and nothing written by a second run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text as sql

from pmosync.cli import main
from pmosync.sandbox.scenarios import cross_tool
from pmosync.sync.store import Store
from tests.e2e.conftest import TODAY, Slice


def _cross_tool_slice(make_slice: Callable[..., Slice]) -> Slice:
    return make_slice(cross_tool.scenario(today=TODAY))


def test_epic_waiting_for_a_slipped_plan_milestone(make_slice: Callable[..., Slice]) -> None:
    sl = _cross_tool_slice(make_slice)
    jira = sl.service("delivery_jira")
    epic_key = jira.spec.extra["epic"]
    emulator: Any = jira.emulator

    code, first = sl.sync()
    assert code == 0, first
    schedule = first["schedule"]
    # the explicit link from the epic's "Depends on" field resolved to the plan's milestone
    assert first["unresolved_names"] == []
    [link] = schedule["cross_tool"]
    assert link["predecessor"].startswith("3 Go-live") and "P001" in link["predecessor"]
    assert link["successor"].startswith(epic_key)
    assert link["from"] == ["plans_pwa"] and link["to"] == ["delivery_jira"]
    # the violation: the epic's work (its stories: a link on an epic binds the work below it,
    # as a link on a summary task does) is due to start before the milestone it waits for
    violations = [
        f
        for f in schedule["findings"]
        if f["kind"] == "violation" and f["link"] == link["dependency"]
    ]
    assert violations, schedule["findings"]
    epic_id = emulator.state.find_issue(epic_key).id
    children = {i.key for i in emulator.state.issues.values() if i.fields.get("parent") == epic_id}
    for finding in violations:
        assert finding["severity"] in ("high", "medium") and finding["shortfall_days"] > 0
        assert finding["items"][0].startswith("3 Go-live")
        assert finding["items"][1].split()[0] in children
        assert (
            "Go-live [P001]" in finding["message"] and "working day(s) short" in finding["message"]
        )

    # written back through the real client: one remote link on the epic, pointing at the plan
    issue = emulator.state.find_issue(epic_key)
    [remote] = issue.remote_links
    assert remote.global_id == f"pmo-sync:{link['dependency']}"
    assert "/sites/pwa/project%20detail%20pages/schedule.aspx?projuid=" in remote.object["url"]
    assert remote.object["title"].startswith("Project Server: 3 Go-live")
    # and the computed fields: a forecast finish after the entered due date's plan, slack
    state = emulator.state
    forecast = issue.fields.get(state.custom_field_id(cross_tool.FORECAST))
    slack = issue.fields.get(state.custom_field_id(cross_tool.SLACK))
    assert forecast is not None and slack is not None
    plan_writes = [w for w in first["plan"] if w["connection"] == "delivery_jira"]
    assert any(w["op"] == "create" and w["entity_type"] == "dependency" for w in plan_writes)

    # the per-run results are in the store, beside (never over) the source values
    store = Store.open(_store_url(sl), migrate=False)
    try:
        with store.engine.connect() as conn:
            run = {"run": first["run_id"]}
            rows = conn.execute(
                sql("SELECT count(*) FROM schedule_results WHERE run_id = :run"), run
            ).scalar()
            found = conn.execute(
                sql(
                    "SELECT count(*) FROM dependency_findings"
                    " WHERE run_id = :run AND kind = 'violation'"
                ),
                run,
            ).scalar()
    finally:
        store.close()
    assert rows == schedule["scheduled"] > 0
    assert found == schedule["findings_by_kind"]["violation"]

    # what-if: the milestone slipping 5 more days moves the epic through the cross-tool link
    result = CliRunner().invoke(
        main,
        [
            "whatif",
            jira.spec.extra["milestone"],
            "--slip",
            "5d",
            "--json",
            "--config",
            str(sl.config),
            "--today",
            TODAY.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    moved = {m["item"].split()[0]: m for m in doc["moves"]}
    # the epic's stories move, through the cross-tool link from the milestone
    stories = [moved[key] for key in sorted(children) if key in moved]
    assert stories and all(m["delta_days"] > 0 for m in stories)
    assert all(m["chain"][0].startswith("3 Go-live") for m in stories)
    assert doc["written"] == 0

    # a second run: the same link, the same fields, so nothing is written and no duplicate
    code, second = sl.sync()
    assert code == 0, second
    assert second["writes_applied"] == 0, second["plan"]
    assert len(emulator.state.find_issue(epic_key).remote_links) == 1
    assert second["schedule"]["cross_tool_links"] == 1

    # the text report of a dry run shows the cross-tool link and the violation, worst first
    text = CliRunner().invoke(
        main, ["sync", "--dry-run", "--config", str(sl.config), "--today", TODAY.isoformat()]
    )
    assert text.exit_code == 0, text.output
    assert f"cross-tool: 3 Go-live [P001] (plans_pwa) -> {epic_key}" in text.output, text.output
    assert "[high] violation: 3 Go-live [P001]" in text.output
    assert "plan: 0 write(s)" in text.output


def _store_url(sl: Slice) -> str:
    from ruamel.yaml import YAML

    config = YAML().load(sl.config.read_text())
    return str(config["store"]["url"])
