"""Commands: runs [list] | runs show RUN (registered by importing this module from pmosync.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pmosync.cli import (
    _config_option,
    _open_store,
    echo_json,
    handle_errors,
    json_option,
    main,
    say,
)
from pmosync.errors import ConfigError


def _summary(run: Any) -> dict[str, Any]:
    report = run.report or {}
    return {
        "id": run.id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "api_calls": report.get("api_calls"),
        "writes_applied": report.get("writes_applied"),
        "conflicts": len(report.get("conflicts", [])),
        "held": sum(1 for c in report.get("conflicts", []) if c.get("held")),
    }


def _list(config_path: Path, limit: int, as_json: bool) -> None:
    store = _open_store(config_path)
    try:
        rows = [_summary(run) for run in store.runs(limit)]
    finally:
        store.close()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        say("no runs yet: run `pmo-sync sync`")
    for row in rows:
        unknown = "?"
        say(
            f"#{row['id']:<5} {row['started_at']:%Y-%m-%d %H:%M:%S}  {row['status']:<11} "
            f"api_calls={row['api_calls'] if row['api_calls'] is not None else unknown:<6} "
            f"writes={row['writes_applied'] if row['writes_applied'] is not None else unknown:<5} "
            f"conflicts={row['conflicts']}"
        )


@main.group(invoke_without_command=True)
@_config_option
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@json_option
@click.pass_context
@handle_errors
def runs(ctx: click.Context, config_path: Path, limit: int, as_json: bool) -> None:
    """List recent runs (status, API calls, writes); `runs show RUN` opens one."""
    if ctx.invoked_subcommand is None:
        _list(config_path, limit, as_json)


@runs.command("list")
@_config_option
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@json_option
@handle_errors
def runs_list(config_path: Path, limit: int, as_json: bool) -> None:
    """List recent runs with their status, API calls and writes."""
    _list(config_path, limit, as_json)


@runs.command("show")
@_config_option
@click.argument("run_id", metavar="RUN")
@json_option
@handle_errors
def runs_show(config_path: Path, run_id: str, as_json: bool) -> None:
    """Open the stored report of RUN (a run number, or `latest`)."""
    from pmosync.reports.run_report import render_text
    from pmosync.sync import models
    from pmosync.sync.report import RunReport

    store = _open_store(config_path)
    try:
        if run_id == "latest":
            run = next(iter(store.runs(1)), None)
        else:
            try:
                number = int(run_id.lstrip("#"))
            except ValueError:
                raise click.BadParameter("a run number or `latest`", param_hint="RUN") from None
            with store.sessions() as session:
                run = session.get(models.Run, number)
        if run is None:
            raise ConfigError(f"no run {run_id} in the store (see `pmo-sync runs`)")
    finally:
        store.close()
    if run.report is None:
        raise ConfigError(f"run #{run.id} is {run.status} and stored no report (it did not finish)")
    if as_json:
        echo_json(run.report)
        return
    say(render_text(RunReport.from_dict(run.report), verbose=True))
