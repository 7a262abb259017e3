"""Commands: outbox list | retry | drop (registered by importing this module from pmosync.cli).

For writes that keep failing: see them with the record's name and the tool's error, retry them
now (a sync of their connections), or drop a change a tool will never take.
"""

from __future__ import annotations

from pathlib import Path

import click

from pmosync.cli import (
    EXIT_CODES_HELP,
    _config_option,
    _exit_for,
    _open_store,
    _print_report,
    echo_json,
    handle_errors,
    json_option,
    main,
    say,
    verbosity,
)


@main.group()
def outbox() -> None:
    """Writes that failed: list them, retry them now, or drop the ones a tool will never take."""


@outbox.command("list")
@_config_option
@json_option
@click.option("--dropped", is_flag=True, help="Also writes a person dropped.")
@handle_errors
def outbox_list(config_path: Path, as_json: bool, dropped: bool) -> None:
    """Writes whose latest attempt failed: record, change, how many runs it failed, the error."""
    from pmosync.humanize import value_text
    from pmosync.sync.conflicts import labels
    from pmosync.sync.outbox import failing_writes

    store = _open_store(config_path)
    try:
        failing = failing_writes(store, dropped=dropped)
        names = labels(store, [f.row.canonical_id for f in failing])
    finally:
        store.close()
    if as_json:
        echo_json([{**f.to_dict(), "record": names[f.row.canonical_id]} for f in failing])
        return
    if not failing:
        say("no failed writes")
    for f in failing:
        r = f.row
        changes = ", ".join(
            f"{c['field']} → {value_text(c.get('new'), c['field'])}"
            for c in (r.payload or {}).get("changes", [])
        )
        state = " [dropped]" if r.status == "dropped" else ""
        times = "once" if f.failures == 1 else f"{f.failures} times"
        say(f"#{r.id} {r.connection} {names[r.canonical_id]}{state}: {changes} (failed {times})")
        say(f"    {r.last_error or 'no error recorded'}")
    if failing and not as_json:
        say("\nfix the cause, then `pmo-sync outbox retry ID`; or `pmo-sync outbox drop ID`")


@outbox.command("retry", epilog=EXIT_CODES_HELP)
@_config_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every failed write.")
@json_option
@handle_errors
def outbox_retry(config_path: Path, ids: tuple[int, ...], every: bool, as_json: bool) -> None:
    """Try failed (or dropped) writes again now: a sync of their connections re-plans them
    from the store and sends them (writes are idempotent, nothing is duplicated)."""
    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, run_sync
    from pmosync.sync.outbox import failing_writes, set_status

    if bool(ids) == every:
        raise click.UsageError("give outbox row ids (see `pmo-sync outbox list`) or --all")
    loaded = load_config(config_path)
    store = _open_store(config_path)
    try:
        chosen = list(ids) or [f.row.id for f in failing_writes(store)]
        if not chosen:
            say("no failed writes")
            return
        rows = set_status(store, chosen, "retry", ("failed", "dropped"))
    finally:
        store.close()
    connections = sorted({r.connection for r in rows})
    say(f"retrying {len(rows)} write(s) through a sync of {', '.join(connections)}")
    report = run_sync(loaded, SyncOptions(only=connections))
    _print_report(report, as_json, verbose=verbosity() > 0 or not as_json)
    _exit_for(report)


@outbox.command("drop")
@_config_option
@click.argument("ids", nargs=-1, type=int, required=True)
@handle_errors
def outbox_drop(config_path: Path, ids: tuple[int, ...]) -> None:
    """Give up on failed writes: the same change to the same record is no longer sent (until
    the value changes, or `outbox retry ID` takes the drop back)."""
    from pmosync.sync.outbox import set_status

    store = _open_store(config_path)
    try:
        rows = set_status(store, list(ids), "dropped", ("failed",))
    finally:
        store.close()
    say(f"dropped {len(rows)} write(s); `pmo-sync outbox list --dropped` shows them")
