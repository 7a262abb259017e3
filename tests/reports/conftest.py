"""A small portfolio seeded straight into a store (renderer tests), and a headless Chromium.

The seed is canonical entities as the sync stores them: two programmes and a project with
none, projects in three tools, milestones with baselines, work items with baseline 0,
cross-project links, RAID items. Names are hostile on purpose: markup, quotes, Mermaid and
CDATA terminators, newlines and spreadsheet formulas.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from pmosync.reports.data import ReportData, load_report_data
from pmosync.sync import models
from pmosync.sync.store import Store

STATUS_DATE = date(2026, 12, 1)
HOSTILE = "<script>alert('x')</script> \"Q\" ]]> --> a\nb"
FORMULA = '=HYPERLINK("http://evil","click")'


@dataclass
class Seed:
    store: Store
    ids: dict[str, str]

    def data(self, programme: str | None = None) -> ReportData:
        return load_report_data(self.store, "Test PMO", programme=programme)


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def seed_store(
    url: str,
    *,
    findings: bool = True,
    schedule: bool = True,
    tombstone_one: bool = False,
) -> Seed:
    store = Store.open(url)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ids = {
        "prog_a": _id(1),
        "prog_b": _id(2),
        "alpha": _id(10),
        "beta": _id(11),
        "gamma": _id(12),
        "hostile": _id(13),
        "undated": _id(14),
        "a1": _id(20),
        "a2": _id(21),
        "b1": _id(22),
        "c1": _id(23),
        "ms_a": _id(30),
        "ms_b": _id(31),
        "ms_h": _id(32),
        "dep_ab": _id(40),
        "dep_bc": _id(41),
        "dep_aa": _id(42),
        "risk_hi": _id(50),
        "risk_formula": _id(51),
        "decision": _id(52),
        "owner": _id(60),
        "gone": _id(70),
    }
    i = ids
    entities: list[tuple[str, str, dict[str, Any], list[str]]] = [
        (
            "programme",
            i["prog_a"],
            {
                "name": "Digital",
                "code": "DIG",
                "rag_computed": "A",
                "pmo_status": "one project amber",
            },
            ["pmo_airtable"],
        ),
        ("programme", i["prog_b"], {"name": "Operations", "code": "OPSP"}, ["pmo_airtable"]),
        ("person", i["owner"], {"name": "Ada Lovelace"}, ["delivery_jira"]),
        (
            "project",
            i["alpha"],
            {
                "code": "ALP",
                "name": "Alpha Platform",
                "programme": i["prog_a"],
                "status": "active",
                "planned_start": "2026-09-01",
                "planned_finish": "2027-03-31",
                "rag": "G",
                "rag_computed": "A",
                "pmo_status": "Design 5 days overdue",
            },
            ["delivery_jira", "plans_pwa"],
        ),
        (
            "project",
            i["beta"],
            {
                "code": "BET",
                "name": "Beta Rollout",
                "programme": i["prog_a"],
                "status": "active",
                "planned_start": "2027-01-04",
                "planned_finish": "2027-06-30",
                "rag": "R",
                "rag_computed": "R",
                "pmo_status": "2 milestones overdue",
            },
            ["plans_pwa"],
        ),
        (
            "project",
            i["gamma"],
            {
                "code": "GAM",
                "name": "Gamma Migration",
                "programme": i["prog_b"],
                "status": "not_started",
                "planned_start": "2027-02-01",
                "planned_finish": "2027-09-30",
                "rag": "G",
                "rag_computed": "G",
            },
            ["pmo_airtable"],
        ),
        (
            "project",
            i["hostile"],
            {
                "code": "HOS",
                "name": HOSTILE,
                "status": "active",
                "planned_start": "2026-10-01",
                "planned_finish": "2027-02-26",
                "rag_computed": "G",
                "pmo_status": FORMULA,
            },
            ["pmo_airtable"],
        ),
        ("project", i["undated"], {"code": "UND", "name": "Not planned yet"}, ["pmo_airtable"]),
        (
            "project",
            _id(15),
            {
                "code": "EXT",
                "name": "Stub of another plan",
                "external": True,
                "planned_start": "2026-10-01",
                "planned_finish": "2026-12-01",
            },
            ["plans_pwa"],
        ),
        (
            "work_item",
            i["a1"],
            {
                "name": "Build API",
                "key": "ALP-1",
                "project": i["alpha"],
                "kind": "task",
                "start": "2026-09-01",
                "due": "2027-01-15",
                "baselines": [
                    {"number": 0, "start": "2026-09-01T08:00:00", "finish": "2027-01-08T17:00:00"}
                ],
            },
            ["delivery_jira"],
        ),
        (
            "work_item",
            i["a2"],
            {
                "name": "Harden",
                "key": "ALP-2",
                "project": i["alpha"],
                "kind": "task",
                "start": "2027-01-18",
                "due": "2027-03-31",
                "baselines": [
                    {"number": 0, "start": "2027-01-11T08:00:00", "finish": "2027-03-19T17:00:00"}
                ],
            },
            ["delivery_jira"],
        ),
        (
            "work_item",
            i["b1"],
            {
                "name": "Pilot",
                "key": "BET-1",
                "project": i["beta"],
                "kind": "task",
                "start": "2027-01-04",
                "due": "2027-06-30",
            },
            ["plans_pwa"],
        ),
        (
            "work_item",
            i["c1"],
            {
                "name": HOSTILE,
                "key": "GAM-1",
                "project": i["gamma"],
                "kind": "task",
                "start": "2027-02-01",
                "due": "2027-09-30",
            },
            ["pmo_airtable"],
        ),
        (
            "milestone",
            i["ms_a"],
            {
                "name": "Alpha live",
                "project": i["alpha"],
                "due": "2027-03-31",
                "baseline_due": "2027-03-19",
                "done": False,
            },
            ["plans_pwa"],
        ),
        (
            "milestone",
            i["ms_b"],
            {
                "name": "Beta pilot ready",
                "project": i["beta"],
                "due": "2027-01-20",
                "baseline_due": "2027-01-20",
                "done": False,
            },
            ["plans_pwa"],
        ),
        (
            "milestone",
            i["ms_h"],
            {
                "name": HOSTILE,
                "project": i["hostile"],
                "due": "2026-12-15",
                "done": False,
            },
            ["pmo_airtable"],
        ),
        (
            "dependency",
            i["dep_ab"],
            {
                "predecessor": i["a1"],
                "successor": i["b1"],
                "link_type": "FS",
                "dependency_class": "logic",
            },
            ["delivery_jira"],
        ),
        (
            "dependency",
            i["dep_bc"],
            {
                "predecessor": i["b1"],
                "successor": i["c1"],
                "link_type": "FS",
                "dependency_class": "logic",
            },
            ["plans_pwa"],
        ),
        (
            "dependency",
            i["dep_aa"],
            {
                "predecessor": i["a1"],
                "successor": i["a2"],
                "link_type": "FS",
                "dependency_class": "logic",
            },
            ["delivery_jira"],
        ),
        (
            "raid_item",
            i["risk_hi"],
            {
                "name": "Vendor may slip",
                "kind": "risk",
                "project": i["beta"],
                "status": "active",
                "probability": 5,
                "impact": 4,
                "due": "2027-01-15",
                "owner": i["owner"],
            },
            ["pmo_airtable"],
        ),
        (
            "raid_item",
            i["risk_formula"],
            {
                "name": FORMULA,
                "kind": "risk",
                "project": i["alpha"],
                "status": "active",
                "probability": 2,
                "impact": 2,
                "mitigation": "-1 day buffer @ops +plan",
            },
            ["pmo_airtable"],
        ),
        (
            "raid_item",
            i["decision"],
            {
                "name": "Approve pilot budget",
                "kind": "decision",
                "project": i["beta"],
                "status": "active",
                "due": "2026-12-10",
            },
            ["pmo_airtable"],
        ),
        (
            "milestone",
            i["gone"],
            {
                "name": "Deleted milestone",
                "project": i["alpha"],
                "due": "2026-12-20",
            },
            ["pmo_airtable"],
        ),
    ]
    with store.session() as session:
        session.add(
            models.Run(
                started_at=now,
                finished_at=now,
                status="ok",
                dry_run=False,
                report={"schedule": {"findings": []}} if findings else {},
            )
        )
        session.flush()
        for entity_type, cid, values, connections in entities:
            session.add(
                models.Entity(id=cid, entity_type=entity_type, values=values, updated_at=now)
            )
            for connection in connections:
                deleted = now if tombstone_one and cid == i["gone"] else None
                session.add(
                    models.Link(
                        canonical_id=cid,
                        connection=connection,
                        entity_type=entity_type,
                        external_id=f"{connection}-{cid}",
                        external_key=None,
                        version_token=None,
                        source_modified_at=None,
                        content_hash=None,
                        remote_values={},
                        pointers={},
                        fetched_at=now,
                        deleted_at=deleted,
                    )
                )
        if findings:
            session.add(
                models.DependencyFinding(
                    run_id=1,
                    kind="violation",
                    severity="high",
                    link=i["dep_ab"],
                    items={"ids": [i["a1"], i["b1"]]},
                    shortfall_days=9.0,
                    message="ALP-1 Build API → BET-1 Pilot (FS): 9 working day(s) short",
                )
            )
        if schedule:
            for cid, start, finish, critical in (
                (i["a1"], datetime(2026, 9, 1, 8), datetime(2027, 1, 15, 17), True),
                (i["a2"], datetime(2027, 1, 18, 8), datetime(2027, 4, 9, 17), True),
                (i["b1"], datetime(2027, 1, 18, 8), datetime(2027, 7, 9, 17), False),
            ):
                session.add(
                    models.ScheduleResult(
                        run_id=1,
                        canonical_id=cid,
                        early_start=start,
                        early_finish=finish,
                        late_start=start,
                        late_finish=finish,
                        total_slack_minutes=0.0,
                        free_slack_minutes=0.0,
                        critical=critical,
                        driving_predecessor=None,
                    )
                )
    return Seed(store, ids)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seed]:
    seed = seed_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield seed
    seed.store.close()


@pytest.fixture
def make_seed(tmp_path: Path) -> Iterator[Callable[..., Seed]]:
    seeds: list[Seed] = []

    def make(**options: Any) -> Seed:
        seed = seed_store(f"sqlite:///{tmp_path / f'store{len(seeds)}.db'}", **options)
        seeds.append(seed)
        return seed

    yield make
    for seed in seeds:
        seed.store.close()


# -- headless Chromium --------------------------------------------------------------------
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
_CONSOLE = re.compile(r"CONSOLE\(\d+\)\]|Uncaught|SyntaxError|TypeError|ReferenceError")


@dataclass
class Page:
    dom: str
    console_errors: list[str]


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "headless Chromium is needed for the HTML report tests: apt-get install chromium"
        )
    return found


def open_in_chromium(target: str, profile: Path) -> Page:
    """Load a page (file URL, with an optional #hash) and return the DOM after its scripts
    ran, plus every console message Chromium logged (our pages log nothing when fine)."""
    result = subprocess.run(
        [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", target],
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in result.stderr.splitlines() if _CONSOLE.search(line)]
    return Page(result.stdout, errors)


def screenshot(target: str, profile: Path, out: Path, size: str = "1500,1000") -> Path:
    subprocess.run(
        [
            chromium_binary(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--screenshot={out}",
            target,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return out
