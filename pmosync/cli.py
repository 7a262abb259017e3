"""The command line: the group, shared options, output helpers and the one place where
exceptions become exit codes (``handle_errors``). The commands live in ``pmosync.commands``,
one module per thing people do (sync, runs, conflicts, outbox, setup, sandbox...).

Nothing heavy is imported here: SQLAlchemy, alembic, pydantic and the vendor clients load
inside the commands that need them, so ``--help``, ``config schema`` and ``init`` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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
from pmosync.redact import redact

# Exit codes a cron wrapper can act on.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_LOCKED = 4
EXIT_UNAVAILABLE = 5
EXIT_PARTIAL = 6
EXIT_HELD = 7

EXIT_CODES_HELP = """\b
Exit codes:
  0  ok
  1  internal error (a bug: please report it)
  2  configuration or usage error (a person must fix the YAML or arguments)
  3  authentication error (a credential is missing, wrong or expired)
  4  locked (another run holds the store; try again next time)
  5  remote unavailable (every connection failed transiently; retry later)
  6  partial (some connections or writes failed; the rest was applied)
  7  held (the run succeeded, but a conflict waits for a person: `pmo-sync conflicts list`)"""

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "pmo-sync.yaml"


class Output:
    """What the group options decided about output (``--quiet`` for cron)."""

    quiet: bool = False


def say(text: str = "") -> None:
    """Normal output: silent under --quiet (errors still go to stderr)."""
    if not Output.quiet:
        click.echo(text)


def verbosity() -> int:
    """The -v count given to the group (0 outside a command line)."""
    ctx = click.get_current_context(silent=True)
    return int(ctx.find_root().params.get("verbose") or 0) if ctx else 0


def echo_json(document: Any) -> None:
    """JSON output is what a script asked for: printed even under --quiet."""
    click.echo(json.dumps(document, indent=2, default=str))


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


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pmo-sync")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="-v: what each stage does; -vv: also alembic/urllib3/msal at info; -vvv: debug.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Errors only (for cron); --json output still prints."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="PMOSYNC_LOG_FORMAT",
    help="json: one object per line for log shippers (env PMOSYNC_LOG_FORMAT).",
)
def main(verbose: int, quiet: bool, log_format: str) -> None:
    """pmo-sync keeps one PMO portfolio consistent across Jira, Microsoft Project and Airtable.

    Start with `pmo-sync demo` (no accounts needed), then `pmo-sync init` to write a
    pmo-sync.yaml, `pmo-sync doctor` to check it, and run `pmo-sync sync` from cron
    (see docs/operations.md).
    """
    from pmosync.logging_setup import configure

    Output.quiet = quiet
    configure(verbose, quiet=quiet, log_format="json" if log_format == "json" else "text")


# -- shared by the commands that run a sync ----------------------------------------------
def _print_report(report: Any, as_json: bool, *, verbose: bool = False) -> None:
    from pmosync.reports.run_report import render_text

    if as_json:
        echo_json(report.to_dict())
    else:
        say(render_text(report, verbose=verbose))


def _held(report: Any) -> list[dict[str, Any]]:
    return [c for c in report.conflicts if c.get("held")]


def _exit_for(report: Any) -> None:
    if report.status == "ok":
        held = _held(report)
        if held and not report.dry_run:
            click.secho(
                f"error: {len(held)} conflict(s) wait for a person: see `pmo-sync conflicts "
                "list`, then `pmo-sync conflicts resolve`",
                err=True,
            )
            sys.exit(EXIT_HELD)
        return
    # cron mails stderr: say in one line per connection what went wrong
    for conn in report.connections.values():
        if conn.status == "failed":
            click.secho(f"error: {conn.error}", fg="red", err=True)
        elif conn.writes_failed:
            click.secho(
                f"error: [{conn.name}] {conn.writes_failed} write(s) failed "
                "(`pmo-sync outbox list`)",
                err=True,
            )
    kinds = {c.error_kind for c in report.connections.values() if c.status == "failed"}
    if report.status == "failed":
        if kinds == {"auth"}:
            sys.exit(EXIT_AUTH)
        if kinds <= {"config", "auth"}:
            sys.exit(EXIT_CONFIG)
        if kinds == {"retriable"}:
            sys.exit(EXIT_UNAVAILABLE)
    sys.exit(EXIT_PARTIAL)


def _open_store(config_path: Path) -> Any:
    from pmosync.config.loader import load_config
    from pmosync.sync.store import Store

    return Store.open(load_config(config_path).store_url())


# connection kind -> module with discover(name, config) [and render_text(found)]; a new
# connector adds its line here.
DISCOVERERS = {
    "airtable": "pmosync.connectors.airtable.discover",
    "jira": "pmosync.connectors.jira.discover",
    "pwa": "pmosync.connectors.msproject.discover",
    "planner": "pmosync.connectors.planner.discover",
}


# -- groups other modules add commands to --------------------------------------------------
@main.group()
def config() -> None:
    """Check the configuration, or print its JSON Schema for editors."""


@main.group()
def report() -> None:
    """Write reports from the store (run `pmo-sync sync` first)."""


# Commands register themselves on ``main`` (and the groups above); imported last so they can
# use the helpers above.
from pmosync.commands import analysis as _analysis_commands  # noqa: E402,F401
from pmosync.commands import conflicts as _conflict_commands  # noqa: E402,F401
from pmosync.commands import outbox as _outbox_commands  # noqa: E402,F401
from pmosync.commands import reports as _report_commands  # noqa: E402,F401
from pmosync.commands import runs as _run_commands  # noqa: E402,F401
from pmosync.commands import sandbox as _sandbox_commands  # noqa: E402,F401
from pmosync.commands import schedule as _schedule_commands  # noqa: E402,F401
from pmosync.commands import setup as _setup_commands  # noqa: E402,F401
from pmosync.commands import status as _status_commands  # noqa: E402,F401
from pmosync.commands import sync as _sync_commands  # noqa: E402,F401

if __name__ == "__main__":
    # `python -m pmosync.cli`: the commands registered on the importable module's group
    from pmosync.cli import main as _registered

    _registered()
