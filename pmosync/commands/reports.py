"""Commands: report roadmap | dependencies | raid | pack (registered by importing this module
from pmosync.cli). They read the store as of its last successful run, never the tools."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from pmosync.cli import _config_option, handle_errors, report

_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Folder to write into (created when missing).",
)
_programme_option = click.option(
    "--programme",
    default=None,
    help="Only this programme's projects (its name or code).",
)
_status_date_option = click.option(
    "--status-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the report is drawn at (the 'today' line); default today.",
)


def _formats(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "formats",
        type=click.Choice(choices + ("all",)),
        multiple=True,
        default=("all",),
        show_default=True,
        help="Which formats to write (repeat the option for several).",
    )


def _chosen(formats: tuple[str, ...], choices: tuple[str, ...]) -> set[str]:
    return set(choices) if "all" in formats else set(formats)


def _day(value: Any) -> date:
    return value.date() if value is not None else date.today()


def _run(config_path: Path, programme: str | None, write: Callable[..., list[Path]]) -> None:
    from pmosync.config.loader import load_config
    from pmosync.private_files import owner_only, tighten
    from pmosync.reports.outputs import load

    data = load(load_config(config_path), programme)
    with owner_only():  # the reports hold the portfolio (issue #11)
        paths = write(data)
    tighten(paths)
    for path in paths:
        click.echo(str(path))


@report.command("roadmap")
@_config_option
@_out_option
@_formats(("html", "png", "mermaid", "csv"))
@_programme_option
@_status_date_option
@click.option(
    "--days",
    default=90,
    show_default=True,
    help="How far ahead the key-events lane looks, in days.",
)
@handle_errors
def report_roadmap(
    config_path: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    programme: str | None,
    status_date: Any,
    days: int,
) -> None:
    """Roadmap: portfolio → programme → project bars with RAG, baselines, milestones and
    dependency arrows.

    Writes roadmap.html (interactive, self-contained, works offline), roadmap.png (for
    slides), roadmap.mmd (Mermaid gantt) and roadmap.csv.
    """
    from pmosync.reports.outputs import ROADMAP_FORMATS, write_roadmap

    chosen = _chosen(formats, ROADMAP_FORMATS)
    _run(
        config_path,
        programme,
        lambda data: write_roadmap(data, _day(status_date), out_dir, chosen, days),
    )


@report.command("dependencies")
@_config_option
@_out_option
@_formats(("html", "svg", "png"))
@_programme_option
@_status_date_option
@handle_errors
def report_dependencies(
    config_path: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    programme: str | None,
    status_date: Any,
) -> None:
    """Cross-project dependencies on a time axis, critical chain and violations marked.

    Writes dependencies.html (picture plus findings and links tables), dependencies.svg and
    dependencies.png.
    """
    from pmosync.reports.outputs import DEPENDENCY_FORMATS, write_dependencies

    chosen = _chosen(formats, DEPENDENCY_FORMATS)
    _run(
        config_path,
        programme,
        lambda data: write_dependencies(data, _day(status_date), out_dir, chosen),
    )


@report.command("raid")
@_config_option
@_out_option
@_formats(("csv", "html"))
@_programme_option
@handle_errors
def report_raid(
    config_path: Path, out_dir: Path, formats: tuple[str, ...], programme: str | None
) -> None:
    """RAID log: risks, issues, assumptions, decisions, open ones first by exposure.

    Writes raid.csv and raid.html (the steering pack's workbook has it as a sheet too).
    """
    from pmosync.reports.outputs import RAID_FORMATS, write_raid_reports

    chosen = _chosen(formats, RAID_FORMATS)
    _run(config_path, programme, lambda data: write_raid_reports(data, out_dir, chosen))


@report.command("pack")
@_config_option
@_out_option
@_formats(("xlsx", "pptx"))
@_programme_option
@_status_date_option
@handle_errors
def report_pack(
    config_path: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    programme: str | None,
    status_date: Any,
) -> None:
    """Steering committee pack: an Excel workbook and a PowerPoint deck.

    Writes steering-pack.xlsx (summary with RAG colours, programmes, milestones with
    baseline/forecast/slip, RAID log, dependencies with findings, roadmap picture) and
    steering-pack.pptx (portfolio slide, roadmap, one slide per programme with its roadmap,
    RAG and reasons, top risks and decisions needed).
    """
    from pmosync.reports.outputs import PACK_FORMATS, write_pack

    chosen = _chosen(formats, PACK_FORMATS)
    _run(
        config_path,
        programme,
        lambda data: write_pack(data, _day(status_date), out_dir, chosen),
    )
