"""Commands: sync, backfill, import (registered by importing this module from pmosync.cli)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from pmosync.cli import (
    EXIT_CODES_HELP,
    EXIT_PARTIAL,
    Output,
    _config_option,
    _exit_for,
    _print_report,
    handle_errors,
    main,
    verbosity,
)
from pmosync.errors import ConfigError


@contextmanager
def _progress(label: str, hidden: bool) -> Iterator[Callable[[str, int], None]]:
    """A spinner with records so far, on a terminal only (cron logs stay clean)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    disable = hidden or Output.quiet or not sys.stderr.isatty()
    with Progress(*columns, transient=True, disable=disable) as progress:
        task = progress.add_task(label, total=None)
        yield lambda name, n: progress.update(task, description=f"{name}: {n} records")


@main.command(epilog=EXIT_CODES_HELP)
@_config_option
@click.option("--dry-run", is_flag=True, help="Pull and plan, print the plan, write nothing.")
@click.option(
    "--full", is_flag=True, help="Re-read everything instead of changes since the cursor."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option(
    "--connection",
    "only",
    multiple=True,
    help="Sync only this connection (repeatable). Default: every connection with a team.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Evaluate dates as of this day (default: today in the portfolio's time zone).",
)
@handle_errors
def sync(
    config_path: Path,
    dry_run: bool,
    full: bool,
    as_json: bool,
    only: tuple[str, ...],
    today: Any,
) -> None:
    """Pull every connection, reconcile, compute status and write it back (the cron job).

    Incremental by default: each table/project is read from its cursor minus the overlap
    window. A connection that fails leaves its cursor and stored data untouched; the others go
    on and the exit code says "partial". With -v the output lists every write.
    """
    from pmosync.config.loader import load_config
    from pmosync.notify import notify_run
    from pmosync.sync.engine import SyncOptions, run_sync

    loaded = load_config(config_path)
    with _progress("pulling", as_json) as progress:
        options = SyncOptions(
            dry_run=dry_run,
            full=full,
            only=only or None,
            today=today.date() if today else None,
            progress=progress,
        )
        report = run_sync(loaded, options)
    _print_report(report, as_json, verbose=verbosity() > 0)
    if not dry_run:
        notify_run(loaded, report)
    _exit_for(report)


@main.command(epilog=EXIT_CODES_HELP)
@_config_option
@click.argument("connection")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Records changed on or after this time (UTC). Default: the beginning.",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Records changed before this time (UTC). Default: now.",
)
@click.option("--dry-run", is_flag=True, help="Pull and plan only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@handle_errors
def backfill(
    config_path: Path,
    connection: str,
    since: Any,
    until: Any,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Pull one connection's history in a time window, leaving its incremental cursor alone.

    Safe to interrupt and run again: every record is keyed by its remote id, so a second
    backfill of the same window changes only what changed since.
    """
    from datetime import UTC

    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, run_sync

    loaded = load_config(config_path)
    loaded.connection(connection)
    window = (
        since.replace(tzinfo=UTC) if since else None,
        until.replace(tzinfo=UTC) if until else None,
    )
    if window[0] and window[1] and window[0] >= window[1]:
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    with _progress(f"{connection}: pulling", as_json) as progress:
        report = run_sync(
            loaded,
            SyncOptions(only=[connection], window=window, dry_run=dry_run, progress=progress),
        )
    _print_report(report, as_json, verbose=verbosity() > 0)
    _exit_for(report)


@main.command("import", epilog=EXIT_CODES_HELP)
@_config_option
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "connection_name",
    default="files",
    show_default=True,
    help="Name the imported records are kept under; re-import under the same name to update.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@handle_errors
def import_files(
    config_path: Path, files: tuple[Path, ...], connection_name: str, as_json: bool
) -> None:
    """Import Microsoft Project (.mpp, MSPDI .xml), Primavera (.xer, PMXML) files into the store.

    Reads the files through MPXJ (needs Java 11+) in a worker process and maps them like the
    Project Server connector does. Idempotent: importing the same file again changes nothing,
    a newer version of a file updates what it changed. Projects are matched to the other tools
    by the `sync.identity` rules; the next `pmo-sync sync` writes consolidated status back.
    """
    from rich.progress import Progress

    from pmosync.config.loader import load_import_config
    from pmosync.connectors.files.connector import FilesConnector
    from pmosync.sync.engine import SyncOptions, run_sync

    source = click.get_current_context().get_parameter_source("config_path")
    given = source not in (None, click.core.ParameterSource.DEFAULT)
    loaded, note = load_import_config(config_path, given=given)
    if note:
        click.echo(note, err=True)  # stderr: --json output stays one document
    if connection_name in loaded.config.connections:
        raise ConfigError(f"--as {connection_name}: a configured connection has that name")
    with Progress(transient=True, disable=as_json or Output.quiet) as progress:
        task = progress.add_task("reading files", total=len(files))
        connector = FilesConnector(
            connection_name, list(files), on_progress=lambda _path: progress.advance(task)
        )
        report = run_sync(loaded, SyncOptions(extra=[connector]))
    _print_report(report, as_json, verbose=verbosity() > 0)
    if report.status == "ok" and report.quarantined:
        # a file (or part of one) did not import: cron must not read that as success
        click.secho(f"error: {len(report.quarantined)} item(s) not imported", fg="red", err=True)
        sys.exit(EXIT_PARTIAL)
    _exit_for(report)
