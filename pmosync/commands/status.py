"""Command: report status (registered on the `report` group by importing this module)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from pmosync.cli import _config_option, echo_json, handle_errors, json_option, report, say


@report.command("status")
@_config_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Folder to write status.csv and status.html into.",
)
@json_option
@handle_errors
def report_status(config_path: Path, out_dir: Path, as_json: bool) -> None:
    """Portfolio status: one row per project with its consolidated status (CSV and HTML).

    With --json: the files written and every project row, for scripts.
    """
    from pmosync.config.loader import load_config
    from pmosync.private_files import owner_only, tighten
    from pmosync.reports.status import project_rows, write_status_reports
    from pmosync.sync.store import Store

    loaded = load_config(config_path)
    with owner_only():  # the portfolio's status, names and dates (issue #11)
        paths = write_status_reports(loaded, out_dir, today=date.today())
    tighten(paths)
    if as_json:
        store = Store.open(loaded.store_url())
        try:
            rows = project_rows(store)
        finally:
            store.close()
        echo_json({"files": [str(p) for p in paths], "projects": rows})
        return
    for path in paths:
        say(str(path))
