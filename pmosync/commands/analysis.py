"""Commands: analysis (registered by importing this module from pmosync.cli)."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from pmosync.cli import _config_option, handle_errors, main

WHATIF_HELP = """\b
Examples:
  pmo-sync whatif APP-12 --slip 10d          an issue by key slips 10 working days
  pmo-sync whatif "P001 / Go-live" --slip 2w a plan milestone (project code / name)
  pmo-sync whatif "Design approved" --slip 3 --mode replan --json

\b
ITEM is a key (APP-12, a WBS code), "PROJECT-CODE / item name", or an item name
(case-insensitive); an ambiguous name lists the candidates.

\b
--slip is in working days of the item's calendar: 10d, 10 (days), 2w (2 working
weeks = 10 days), -1d (comes in a day earlier: push mode moves nothing else).

\b
--mode push (default): successors move only as far as the slip eats their gap;
items are never pulled earlier. --mode replan: reschedules the whole network with
the slip (CPM), so items may also use slack that the slip frees.

\b
Reads the store only (as the last sync left it); nothing is written anywhere."""


def _existing_store(url: str) -> str:
    """The store URL, refusing a SQLite file that is not there (opening would create it)."""
    from sqlalchemy.engine import make_url

    from pmosync.errors import ConfigError

    parsed = make_url(url)
    database = parsed.database
    local = parsed.get_backend_name() == "sqlite" and database and database != ":memory:"
    if local and not Path(str(database)).exists():
        raise ConfigError(
            f"no store at {database}: run `pmo-sync sync` first (what-if reads what the "
            "last sync stored)"
        )
    return url


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


@main.command("whatif", epilog=WHATIF_HELP)
@click.argument("item")
@click.option(
    "--slip",
    required=True,
    metavar="DAYS",
    help="Working days the item slips: 10d, 10, 2w (weeks of 5 days), -1d.",
)
@click.option(
    "--mode",
    type=click.Choice(["push", "replan"]),
    default="push",
    show_default=True,
    help="push: successors absorb what their gaps allow; replan: recompute the schedule.",
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The status date (default: today in the portfolio's time zone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@_config_option
@handle_errors
def whatif(
    item: str, slip: str, mode: str, today: datetime | None, as_json: bool, config_path: Path
) -> None:
    """What moves if ITEM slips: by how much, through which chain, and which milestones and
    projects change RAG. Nothing is written."""
    from pmosync.analysis.whatif import parse_slip, propagate_slip
    from pmosync.config.loader import load_config
    from pmosync.sync.analyse import build_portfolio, rag_changes, slipped_values
    from pmosync.sync.named_refs import find_named
    from pmosync.sync.state import load_state
    from pmosync.sync.store import Store

    days = parse_slip(slip)
    loaded = load_config(config_path)
    portfolio = loaded.config.portfolio
    status = today.date() if today else datetime.now(ZoneInfo(portfolio.timezone)).date()
    store = Store.open(_existing_store(loaded.store_url()), migrate=False)
    try:
        state = load_state(store)
    finally:
        store.close()
    graph, calendar, calendars = build_portfolio(state, today=status, portfolio=portfolio)
    result = propagate_slip(
        graph,
        find_named(state, item) or item,  # else find_item says what matched
        days,
        calendar=calendar,
        mode="replan" if mode == "replan" else "push",
        status_date=datetime.combine(status, time()),
        calendars=calendars,
    )
    changes = rag_changes(state, slipped_values(state, result), status)
    label = graph.describe
    document: dict[str, Any] = {
        "item": label(result.target),
        "item_id": result.target,
        "slip_days": result.slip_days,
        "mode": mode,
        "status_date": status.isoformat(),
        "moves": [
            {
                "item": label(row.item),
                "item_id": row.item,
                "old_start": _day(row.old_start),
                "old_finish": _day(row.old_finish),
                "new_start": _day(row.new_start),
                "new_finish": _day(row.new_finish),
                "delta_days": row.delta_days,
                "chain": [label(i) for i in row.chain],
            }
            for row in result.rows
        ],
        "absorbed": [{"link": link, "days": d} for link, d in result.absorbed],
        "milestones": [label(m) for m in result.milestones],
        "projects": [
            graph.projects[p].label if p in graph.projects else p for p in result.projects
        ],
        "rag_changes": changes,
        "written": 0,
    }
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(_render(document))


def _render(doc: dict[str, Any]) -> str:
    verb = "slips" if doc["slip_days"] >= 0 else "comes in"
    lines = [
        f"What if {doc['item']} {verb} {abs(doc['slip_days']):g} working day(s) "
        f"({doc['mode']}, status date {doc['status_date']})?"
    ]
    moves = [m for m in doc["moves"] if m["item_id"] != doc["item_id"]]
    if not moves:
        lines.append("  nothing else moves")
    else:
        lines.append(f"  {len(moves)} item(s) move:")
    for m in doc["moves"][:100]:
        chain = " → ".join(m["chain"])
        lines.append(
            f"    {m['delta_days']:+g}d  {m['item']}: finish {m['old_finish']} -> "
            f"{m['new_finish']}" + (f"  (via {chain})" if len(m["chain"]) > 1 else "")
        )
    if len(doc["moves"]) > 100:
        lines.append(f"    ... {len(doc['moves']) - 100} more (--json lists them all)")
    for a in doc["absorbed"][:20]:
        lines.append(f"  a gap absorbs {a['days']:g} day(s) on link {a['link']}")
    if doc["milestones"]:
        lines.append("  milestones that move: " + ", ".join(doc["milestones"]))
    if doc["projects"]:
        lines.append("  projects affected: " + ", ".join(doc["projects"]))
    for c in doc["rag_changes"]:
        lines.append(
            f"  RAG {c['project']}: {c['before']} -> {c['after']} ({'; '.join(c['reasons'])})"
        )
    if not doc["rag_changes"]:
        lines.append("  no project changes RAG")
    lines.append("Nothing was written.")
    return "\n".join(lines)
