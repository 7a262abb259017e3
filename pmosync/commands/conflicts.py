"""Commands: conflicts list | resolve | reopen (registered by importing this module from
pmosync.cli). A held conflict makes `sync` exit 7 until a person resolves it here."""

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


@main.group()
def conflicts() -> None:
    """Conflicts held for a person (fields whose policy is `hold`)."""


@conflicts.command("list")
@_config_option
@json_option
@click.option("--all", "every", is_flag=True, help="Also settled and applied ones (history).")
@handle_errors
def conflicts_list(config_path: Path, as_json: bool, every: bool) -> None:
    """List open conflicts: the record by name, the field and what each tool holds."""
    from pmosync.humanize import value_text
    from pmosync.sync.conflicts import labels, list_conflicts

    store = _open_store(config_path)
    try:
        rows = list_conflicts(store, every=every)
        names = labels(store, [r.canonical_id for r in rows])
    finally:
        store.close()
    if as_json:
        echo_json(
            [
                {
                    "id": r.id,
                    "status": r.status,
                    "entity_type": r.entity_type,
                    "canonical_id": r.canonical_id,
                    "record": names[r.canonical_id],
                    "field": r.field,
                    "observed": r.observed,
                    "policy": r.policy,
                    "resolution": r.resolution,
                    "detected_at": r.detected_at,
                    "run_id": r.run_id,
                }
                for r in rows
            ]
        )
        return
    if not rows:
        say("no open conflicts")
    for r in rows:
        observed = "; ".join(f"{k} {value_text(v, r.field)}" for k, v in r.observed.items())
        state = "" if r.status == "open" else f" [{r.status}]"
        if r.status == "resolved":
            chosen = (r.resolution or {}).get("value")
            state = f" [resolved to {value_text(chosen, r.field)}: the next sync writes it]"
        say(f"#{r.id} {r.entity_type} {names[r.canonical_id]}, {r.field}{state}: {observed}")


@conflicts.command("resolve")
@_config_option
@click.argument("conflict_id", type=int)
@click.option("--take", "take", metavar="CONNECTION", help="Keep what this connection holds.")
@click.option(
    "--value",
    "value",
    metavar="VALUE",
    help='The value to keep: JSON ("done", 3, null) or plain text (2027-01-31); checked '
    "against the field's type.",
)
@handle_errors
def conflicts_resolve(
    config_path: Path, conflict_id: int, take: str | None, value: str | None
) -> None:
    """Settle a held conflict; the next `pmo-sync sync` writes the value to every tool."""
    from pmosync.humanize import value_text
    from pmosync.sync.conflicts import parse_value

    if (take is None) == (value is None):
        raise click.UsageError("give exactly one of --take CONNECTION or --value VALUE")
    store = _open_store(config_path)
    try:
        row = next((r for r in store.open_conflicts() if r.id == conflict_id), None)
        if row is None:
            raise ConfigError(f"no open conflict #{conflict_id} (see `pmo-sync conflicts list`)")
        chosen: Any
        if take is not None:
            if take not in row.observed:
                known = ", ".join(sorted(row.observed))
                raise ConfigError(f"--take {take}: conflict #{conflict_id} involves {known}")
            chosen = row.observed[take]
        else:
            chosen = parse_value(row.entity_type, row.field, value or "")
        store.resolve_conflict(conflict_id, chosen)
        say(
            f"conflict #{conflict_id} resolved to {value_text(chosen, row.field)}; the next "
            "sync writes it (`pmo-sync conflicts reopen` to change your mind)"
        )
    finally:
        store.close()


@conflicts.command("reopen")
@_config_option
@click.argument("conflict_id", type=int)
@handle_errors
def conflicts_reopen(config_path: Path, conflict_id: int) -> None:
    """Take back a resolution: the conflict is held again (nothing is written for it)."""
    from pmosync.sync.conflicts import reopen_conflict

    store = _open_store(config_path)
    try:
        reopen_conflict(store, conflict_id)
    finally:
        store.close()
    say(f"conflict #{conflict_id} is open again: resolve it with `pmo-sync conflicts resolve`")
