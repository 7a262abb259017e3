"""Commands: schedule (registered by importing this module from pmosync.cli)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from pmosync.cli import EXIT_PARTIAL, handle_errors, main

CHECK_EXIT_HELP = """\b
Exit codes:
  0  every task of every file matches what MS Project stored
  1  internal error (a bug: please report it)
  2  usage error, or Java/MPXJ missing (the message says what to install)
  6  some task differs, or some file could not be read or scheduled (the others were checked)"""


@main.group("schedule")
def schedule() -> None:
    """Scheduling with pmo-sync's own CPM (calendars and critical path as MS Project does)."""


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _task_json(check: Any) -> dict[str, Any]:
    computed = check.computed
    return {
        "uid": check.uid,
        "name": check.name,
        "kind": check.kind,
        "early_start": computed.early_start.isoformat(),
        "early_finish": computed.early_finish.isoformat(),
        "late_start": computed.late_start.isoformat(),
        "late_finish": computed.late_finish.isoformat(),
        "total_slack_minutes": computed.total_slack_minutes,
        "free_slack_minutes": computed.free_slack_minutes,
        "critical": computed.critical,
        "stored": {key: _value(value) for key, value in check.stored.items()},
        "differences": list(check.differences),
    }


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None else str(value)


@schedule.command("check", epilog=CHECK_EXIT_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document for all files.")
@handle_errors
def check(files: tuple[Path, ...], as_json: bool) -> None:
    """Recompute each plan's schedule and list every task whose dates or slack differ.

    Reads Microsoft Project files (.mpp, MSPDI .xml; also .xer/PMXML) through MPXJ (needs Java
    11+), runs pmo-sync's critical path method on the plan's own calendars, and compares each
    task's early/late start and finish and total/free slack with the values the file stored.
    Dates are compared as working time on the task's calendar (Friday 17:00 and Monday 08:00
    are the same working instant); manually scheduled tasks must stay at their dates. Needs no
    configuration file and no store.
    """
    from pmosync.analysis.cpm import ScheduleCycleError
    from pmosync.analysis.schedule_check import check_schedule
    from pmosync.connectors.files import read_schedule_files

    plans = read_schedule_files(list(files))
    documents: list[dict[str, Any]] = []
    failed = False
    differ = False
    for plan in plans:
        label = str(plan.path) + (f" (project {plan.project_index})" if plan.project_index else "")
        entry: dict[str, Any] = {"file": str(plan.path), "project_index": plan.project_index}
        documents.append(entry)
        if plan.error is not None:
            failed = True
            entry.update(error=plan.error.message, tasks=[])
            click.secho(f"error: {plan.error.message}", fg="red", err=True)
            continue
        try:
            _, checks = check_schedule(plan)
        except ScheduleCycleError as exc:
            failed = True
            entry.update(error=f"{label}: {exc}", tasks=[])
            click.secho(f"error: {label}: {exc}", fg="red", err=True)
            continue
        entry["tasks"] = [_task_json(c) for c in checks]
        bad = [c for c in checks if c.differences]
        differ = differ or bool(bad)
        if as_json:
            continue
        compared = sum(1 for c in checks if c.kind != "summary")
        click.echo(f"{label}: {compared} tasks, {len(bad)} differ")
        if bad:
            click.echo(f"  {'uid':>6}  {'task':<28} {'field':<20} {'computed':<17} stored")
            for c in bad:
                for name in c.differences:
                    click.echo(
                        f"  {c.uid:>6}  {(c.name or '')[:28]:<28} {name:<20} "
                        f"{_show(getattr(c.computed, name)):<17} {_show(c.stored.get(name))}"
                    )
    if as_json:
        click.echo(json.dumps({"files": documents}, indent=2))
    if failed or differ:
        sys.exit(EXIT_PARTIAL)
