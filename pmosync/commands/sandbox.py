"""Commands: sandbox up, demo (registered by importing this module from pmosync.cli)."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

import click

from pmosync.cli import (
    EXIT_CODES_HELP,
    _exit_for,
    _print_report,
    echo_json,
    handle_errors,
    main,
    say,
)


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
    clients. Each emulator has /_admin/counters, /_admin/faults and /_admin/reset (back to the
    seed this scenario started with).
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
    help="Keep the sandbox config, store and reports here. Default: a temporary folder that "
    "is removed at the end (only the reports are kept).",
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

    keep = directory is not None
    work = directory or Path(tempfile.mkdtemp(prefix="pmo-sync-demo-"))
    out = (lambda _text: None) if as_json else say
    try:
        with Sandbox(scenario, work) as running:
            out(f"sandbox {scenario!r} up in {work}")
            for name, service in running.services.items():
                out(f"  {name:<16} {service.spec.kind:<8} {service.url}")
            loaded = load_config(running.config_path)
            first = run_sync(loaded, SyncOptions(full=True))
            second = run_sync(loaded, SyncOptions())
            paths = write_status_reports(loaded, work / "reports", today=date.today())
            paths += write_demo_reports(loaded, work / "reports", today=date.today())
        if not keep:
            # the store, secrets and token caches go; the reports are what people open
            reports = Path(tempfile.mkdtemp(prefix="pmo-sync-demo-reports-"))
            for path in paths:
                shutil.move(str(path), reports / path.name)
            paths = [reports / p.name for p in paths]
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if as_json:
        document = {
            "directory": str(work) if keep else None,
            "runs": [first.to_dict(), second.to_dict()],
            "reports": [str(p) for p in paths],
        }
        echo_json(document)
    else:
        out("\nfirst run (full):")
        _print_report(first, False)
        out("\nsecond run (incremental, nothing changed remotely):")
        _print_report(second, False)
        out("\nreports:")
        for path in paths:
            out(f"  {path}")
        out(_next_steps(paths, work if keep else None))
    _exit_for(first)


def _next_steps(paths: list[Path], kept: Path | None) -> str:
    html = next((p for p in paths if p.name == "status.html"), paths[0] if paths else None)
    lines = ["", f"open first: {html}" if html else "", "", "next:"]
    if kept is not None:
        config = kept / "pmo-sync.yaml"
        lines += [
            f"  pmo-sync runs show latest -c {config}    # what the first run wrote",
            f"  pmo-sync conflicts list -c {config}      # anything waiting for a person",
            f"  pmo-sync sandbox up --dir {kept}    # emulators that stay up, to explore",
        ]
    else:
        lines += [
            "  pmo-sync demo --dir ./pmo-demo       # keep the sandbox config and store to explore",
        ]
    lines += [
        "  pmo-sync init                        # write your own pmo-sync.yaml and team mappings",
        "  pmo-sync doctor                      # check secrets, access, permissions and fields",
    ]
    return "\n".join(lines)
