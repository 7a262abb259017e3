"""The command line. Parses, calls, maps exceptions to exit codes; nothing else lives here."""

from __future__ import annotations

import json
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pmosync import __version__
from pmosync.errors import (
    AuthError,
    ConfigError,
    FatalConnectorError,
    LockedError,
    PmoSyncError,
    RetriableError,
)
from pmosync.redact import RedactingFilter, redact

# Exit codes a cron wrapper can act on.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_LOCKED = 4
EXIT_UNAVAILABLE = 5
EXIT_PARTIAL = 6

EXIT_CODES_HELP = """\b
Exit codes:
  0  ok
  1  internal error (a bug: please report it)
  2  configuration or usage error (a person must fix the YAML or arguments)
  3  authentication error (a credential is missing, wrong or expired)
  4  locked (another run holds the store; try again next time)
  5  remote unavailable (every connection failed transiently; retry later)
  6  partial (some connections or writes failed; the rest was applied)"""

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "pmo-sync.yaml"


def _fail(message: str, code: int, problems: list[str] | None = None) -> None:
    click.secho(f"error: {redact(message)}", fg="red", err=True)
    for problem in problems or []:
        click.echo(f"  {redact(problem)}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """The one place exceptions become exit codes."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LockedError as exc:
            _fail(str(exc), EXIT_LOCKED)
        except AuthError as exc:
            _fail(str(exc), EXIT_AUTH, exc.problems)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG, exc.problems)
        except RetriableError as exc:
            _fail(str(exc), EXIT_UNAVAILABLE)
        except FatalConnectorError as exc:
            _fail(str(exc), EXIT_PARTIAL)
        except PmoSyncError as exc:
            _fail(str(exc), EXIT_INTERNAL)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def _config_option(fn: F) -> F:
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=DEFAULT_CONFIG,
        show_default=True,
        envvar="PMOSYNC_CONFIG",
        help="pmo-sync.yaml to use (env PMOSYNC_CONFIG).",
    )(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pmo-sync")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """pmo-sync keeps one PMO portfolio consistent across Jira, Microsoft Project and Airtable.

    Start with `pmo-sync demo` (no accounts needed), then write a pmo-sync.yaml
    (see `pmo-sync config schema`) and run `pmo-sync sync` from cron.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    # urllib3 logs full URLs at debug level; keep them out unless asked twice.
    logging.getLogger("urllib3").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)


# -- sync ---------------------------------------------------------------------------------
def _print_report(report: Any, as_json: bool) -> None:
    from pmosync.reports.run_report import render_text

    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        click.echo(render_text(report))


def _exit_for(report: Any) -> None:
    if report.status == "ok":
        return
    # cron mails stderr: say in one line per connection what went wrong
    for conn in report.connections.values():
        if conn.status == "failed":
            click.secho(f"error: {conn.error}", fg="red", err=True)
        elif conn.writes_failed:
            click.secho(f"error: [{conn.name}] {conn.writes_failed} write(s) failed", err=True)
    kinds = {c.error_kind for c in report.connections.values() if c.status == "failed"}
    if report.status == "failed":
        if kinds == {"auth"}:
            sys.exit(EXIT_AUTH)
        if kinds <= {"config", "auth"}:
            sys.exit(EXIT_CONFIG)
        if kinds == {"retriable"}:
            sys.exit(EXIT_UNAVAILABLE)
    sys.exit(EXIT_PARTIAL)


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
    on and the exit code says "partial".
    """
    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, run_sync

    loaded = load_config(config_path)
    options = SyncOptions(
        dry_run=dry_run, full=full, only=only or None, today=today.date() if today else None
    )
    report = run_sync(loaded, options)
    _print_report(report, as_json)
    _exit_for(report)


# -- config -------------------------------------------------------------------------------
@main.group()
def config() -> None:
    """Check the configuration, or print its JSON Schema for editors."""


@config.command("validate")
@_config_option
@handle_errors
def config_validate(config_path: Path) -> None:
    """Validate pmo-sync.yaml and every team mapping; list every problem with file:line."""
    from pmosync.config.loader import load_config

    loaded = load_config(config_path)
    conns = len(loaded.config.connections)
    click.echo(f"{config_path}: ok ({conns} connection(s), {len(loaded.mappings)} team mapping(s))")


@config.command("schema")
@click.option(
    "--kind",
    type=click.Choice(["config", "mapping"]),
    default="config",
    show_default=True,
    help="pmo-sync.yaml (config) or a team mapping file (mapping).",
)
def config_schema(kind: str) -> None:
    """Print the JSON Schema (use it with your editor's YAML language server)."""
    from pmosync.config.mapping import TeamMapping
    from pmosync.config.models import PmoSyncConfig

    model = PmoSyncConfig if kind == "config" else TeamMapping
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(),
    }
    click.echo(json.dumps(schema, indent=2))


# -- runs and conflicts -------------------------------------------------------------------
def _open_store(config_path: Path) -> Any:
    from pmosync.config.loader import load_config
    from pmosync.sync.store import Store

    return Store.open(load_config(config_path).store_url())


@main.command()
@_config_option
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@handle_errors
def runs(config_path: Path, limit: int) -> None:
    """List recent runs with their status, API calls and writes."""
    store = _open_store(config_path)
    try:
        for run in store.runs(limit):
            report = run.report or {}
            click.echo(
                f"#{run.id:<5} {run.started_at:%Y-%m-%d %H:%M:%S}  {run.status:<8} "
                f"api_calls={report.get('api_calls', '?'):<6} "
                f"writes={report.get('writes_applied', '?'):<5} "
                f"conflicts={len(report.get('conflicts', []))}"
            )
    finally:
        store.close()


@main.group()
def conflicts() -> None:
    """Conflicts held for a person (fields whose policy is `hold`)."""


@conflicts.command("list")
@_config_option
@handle_errors
def conflicts_list(config_path: Path) -> None:
    """List open conflicts: entity, field and what each system holds."""
    store = _open_store(config_path)
    try:
        rows = store.open_conflicts()
        if not rows:
            click.echo("no open conflicts")
        for row in rows:
            observed = ", ".join(f"{k}={v!r}" for k, v in row.observed.items())
            click.echo(f"#{row.id} {row.entity_type} {row.canonical_id} {row.field}: {observed}")
    finally:
        store.close()


# -- backfill -----------------------------------------------------------------------------
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

    from rich.progress import Progress, SpinnerColumn, TextColumn

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
    columns = (SpinnerColumn(), TextColumn("{task.description}"))
    with Progress(*columns, transient=True, disable=as_json) as progress:
        task = progress.add_task(f"{connection}: pulling", total=None)
        report = run_sync(
            loaded,
            SyncOptions(
                only=[connection],
                window=window,
                dry_run=dry_run,
                progress=lambda name, n: progress.update(task, description=f"{name}: {n} records"),
            ),
        )
    _print_report(report, as_json)
    _exit_for(report)


# -- import -------------------------------------------------------------------------------
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
    Needs no connection in the config, nor a config at all (then: pmo-sync.db in this folder).
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
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("reading files", total=len(files))
        connector = FilesConnector(
            connection_name, list(files), on_progress=lambda _path: progress.advance(task)
        )
        report = run_sync(loaded, SyncOptions(extra=[connector]))
    _print_report(report, as_json)
    if report.status == "ok" and report.quarantined:
        # a file (or part of one) did not import: cron must not read that as success
        click.secho(f"error: {len(report.quarantined)} item(s) not imported", fg="red", err=True)
        sys.exit(EXIT_PARTIAL)
    _exit_for(report)


# -- discover -----------------------------------------------------------------------------
DISCOVERERS = {
    "airtable": "pmosync.connectors.airtable.discover",
    "jira": "pmosync.connectors.jira.discover",
    "pwa": "pmosync.connectors.msproject.discover",
    "planner": "pmosync.connectors.planner.discover",
}


@main.command()
@_config_option
@click.argument("connection")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a listing.")
@handle_errors
def discover(config_path: Path, connection: str, as_json: bool) -> None:
    """List what a mapping can name in CONNECTION's tool.

    Airtable: tables and fields with their ids, types and select options. Jira: fields (id,
    name, type), statuses with categories, link types, issue types, projects. Project Server:
    projects, enterprise custom fields with lookup values, task fields.
    """
    from importlib import import_module

    from pmosync.config.loader import load_config

    conn = load_config(config_path).connection(connection)
    module = import_module(DISCOVERERS[conn.kind])
    found = module.discover(connection, conn)
    if as_json or not hasattr(module, "render_text"):
        click.echo(json.dumps(found, indent=2, default=str))
    else:
        click.echo(module.render_text(found))


@conflicts.command("resolve")
@_config_option
@click.argument("conflict_id", type=int)
@click.option("--take", "take", metavar="CONNECTION", help="Keep what this connection holds.")
@click.option("--value", "value", metavar="JSON", help='The value to keep, as JSON ("done", 3).')
@handle_errors
def conflicts_resolve(
    config_path: Path, conflict_id: int, take: str | None, value: str | None
) -> None:
    """Settle a held conflict; the next `pmo-sync sync` writes the value to every tool."""
    if (take is None) == (value is None):
        raise click.UsageError("give exactly one of --take CONNECTION or --value JSON")
    store = _open_store(config_path)
    try:
        chosen: Any
        if take is not None:
            row = next((r for r in store.open_conflicts() if r.id == conflict_id), None)
            if row is None:
                raise ConfigError(
                    f"no open conflict #{conflict_id} (see `pmo-sync conflicts list`)"
                )
            if take not in row.observed:
                known = ", ".join(sorted(row.observed))
                raise ConfigError(f"--take {take}: conflict #{conflict_id} involves {known}")
            chosen = row.observed[take]
        else:
            try:
                chosen = json.loads(value or "")
            except json.JSONDecodeError:
                raise click.BadParameter(
                    "not JSON (quote strings: '\"done\"')", param_hint="--value"
                ) from None
        store.resolve_conflict(conflict_id, chosen)
        click.echo(f"conflict #{conflict_id} resolved to {chosen!r}; the next sync writes it")
    finally:
        store.close()


# -- auth ---------------------------------------------------------------------------------
@main.group()
def auth() -> None:
    """Sign-in for connections that need a person once (Project Online / Server via Entra)."""


@auth.command("login")
@_config_option
@click.argument("connection")
@handle_errors
def auth_login(config_path: Path, connection: str) -> None:
    """Sign in interactively (device code) and store the token cache for scheduled runs.

    Project Online only accepts delegated users: run this once where you can open a browser;
    cron then refreshes the token silently from the cache file (mode 0600) named by the
    connection's `token_cache`. For `auth: client_credentials` it checks the secret.
    """
    from pmosync.config.loader import load_config

    loaded = load_config(config_path)
    from pmosync.config.connections import PlannerConnection, PwaConnection
    from pmosync.connectors.msproject.auth import sign_in

    found = loaded.config.connections.get(connection)
    if isinstance(found, PlannerConnection):  # Planner Premium: the same msal sign-in
        conn: PwaConnection = found.msal_settings()
    else:
        picked = loaded.connection(connection, kind="pwa")
        assert isinstance(picked, PwaConnection)
        conn = picked

    who = sign_in(connection, conn, prompt=lambda text: click.echo(text, err=True))
    click.echo(f"{connection}: signed in as {who}")


# -- reports ------------------------------------------------------------------------------
@main.group()
def report() -> None:
    """Write reports from the store (run `pmo-sync sync` first)."""


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
@handle_errors
def report_status(config_path: Path, out_dir: Path) -> None:
    """Portfolio status: one row per project with its consolidated status (CSV and HTML)."""
    from pmosync.config.loader import load_config
    from pmosync.reports.status import write_status_reports

    loaded = load_config(config_path)
    for path in write_status_reports(loaded, out_dir, today=date.today()):
        click.echo(str(path))


# -- sandbox and demo ---------------------------------------------------------------------
def _serve_until_signalled() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


@main.group()
def sandbox() -> None:
    """Loopback emulators of Jira, Airtable, Project Server and Entra (no accounts needed)."""


@sandbox.command("up")
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    help="Which emulators and seed: demo (Airtable + Jira + Project Server), airtable, "
    "jira-cloud, jira-dc, pwa.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Where to write pmo-sync.yaml, sandbox.json, secrets/ and the CA bundle.",
)
@handle_errors
def sandbox_up(scenario: str, directory: Path) -> None:
    """Start the emulators and serve until interrupted (Ctrl-C or SIGTERM).

    Writes DIR/pmo-sync.yaml (a ready config pointing at the emulators) and DIR/sandbox.json
    ({"ca_bundle", "services": {name: {"kind", "url", "credentials", "admin"}}}) for your own
    clients. Each emulator has /_admin/counters, /_admin/faults and /_admin/reset.
    """
    from pmosync.sandbox.harness import Sandbox

    with Sandbox(scenario, directory) as running:
        click.echo(f"sandbox {scenario!r} is up; config: {running.config_path}")
        for name, service in running.services.items():
            click.echo(f"  {name:<16} {service.spec.kind:<8} {service.url}")
        click.echo("Ctrl-C to stop.")
        sys.stdout.flush()
        _serve_until_signalled()
    click.echo("sandbox stopped")


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to put the sandbox config, store and reports (default: a temporary folder).",
)
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    help="Sandbox scenario: demo, airtable, jira-cloud, jira-dc or pwa.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run reports as JSON.")
@handle_errors
def demo(directory: Path | None, scenario: str, as_json: bool) -> None:
    """Start the sandbox PMO, run a full sync and a second (no-op) one, and write the reports."""
    from pmosync.config.loader import load_config
    from pmosync.reports.outputs import write_demo_reports
    from pmosync.reports.status import write_status_reports
    from pmosync.sandbox.harness import Sandbox
    from pmosync.sync.engine import SyncOptions, run_sync

    directory = directory or Path(tempfile.mkdtemp(prefix="pmo-sync-demo-"))
    say = (lambda _text: None) if as_json else click.echo
    with Sandbox(scenario, directory) as running:
        say(f"sandbox {scenario!r} up in {directory}")
        for name, service in running.services.items():
            say(f"  {name:<16} {service.spec.kind:<8} {service.url}")
        loaded = load_config(running.config_path)
        first = run_sync(loaded, SyncOptions(full=True))
        second = run_sync(loaded, SyncOptions())
        paths = write_status_reports(loaded, directory / "reports", today=date.today())
        paths += write_demo_reports(loaded, directory / "reports", today=date.today())
    if as_json:
        document = {
            "directory": str(directory),
            "runs": [first.to_dict(), second.to_dict()],
            "reports": [str(p) for p in paths],
        }
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        say("\nfirst run (full):")
        _print_report(first, False)
        say("\nsecond run (incremental, nothing changed remotely):")
        _print_report(second, False)
        say("\nreports:")
        for path in paths:
            say(f"  {path}")
    _exit_for(first)


# Commands of other areas register themselves on ``main``; imported last so they can use the
# helpers above.
from pmosync.commands import analysis as _analysis_commands  # noqa: E402,F401
from pmosync.commands import reports as _report_commands  # noqa: E402,F401
from pmosync.commands import schedule as _schedule_commands  # noqa: E402,F401

if __name__ == "__main__":
    main()
