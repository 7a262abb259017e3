"""What the fault matrix and the SIGKILL campaign share: one sandbox per emulator under test,
where its reads and writes go, and every tool's state as plain data to compare field by field.

The snapshot reads each emulator's own state through its Python API (what the service holds),
leaving out what changes on every write whatever its content (modification times, row
versions, etags): two runs that wrote the same values compare equal; a lost edit, a doubled
record or a project left checked out does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import select

from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import cross_tool, planner, pwa
from pmosync.sync import models
from pmosync.sync.store import Store
from tests.e2e.conftest import TODAY, Slice, fast_airtable


@dataclass(frozen=True)
class Target:
    """One emulator under test: the sandbox around it and its read and write traffic."""

    name: str
    scenario: Callable[[], Scenario]
    service: str  # the service whose emulator takes the faults
    prefix: str  # the API's path prefix
    write: str  # the method filter of its writes (admin.Burst.method: "WRITE" = not GET)


def _portfolio(services: list[Any]) -> Scenario:
    return Scenario(services=services, portfolio={"name": "Test", "timezone": "UTC"})


TARGETS = {
    t.name: t
    for t in (
        Target("airtable", lambda: fast_airtable(), "pmo_airtable", "/v0", "PATCH"),
        # Jira gets pmo-sync's computed forecast and slack and a remote link to the plan
        Target(
            "jira",
            lambda: cross_tool.scenario(today=TODAY),
            "delivery_jira",
            "/rest/api",
            "PUT",  # issue edits (searches may POST, so "any but GET" would hit reads)
        ),
        Target(
            "pwa",
            lambda: _portfolio(pwa.services(projects=2)),
            "plans_pwa",
            "/sites/pwa/_api",
            "POST",
        ),
        Target(
            "dataverse",
            lambda: planner.scenario(today=TODAY),
            "plans_planner",
            "/api/data",
            "WRITE",
        ),
    )
}

# Field names whose value moves on every write whatever was written.
VOLATILE = re.compile(
    r"(modif|^updated$|versionnumber|etag|lastviewed|^created|createdtime|lastpublished"
    r"|lastsaved|^last_write$|doc_cache|search_view|histories|changelog)",
    re.IGNORECASE,
)

LOOPBACK = re.compile(r"https://127\.0\.0\.1:\d+")


def plain(value: Any) -> Any:
    """JSON-like data without the volatile fields (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not VOLATILE.search(str(k))}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return plain({k: getattr(value, k) for k in value.__dataclass_fields__})
    if isinstance(value, str):
        return LOOPBACK.sub("https://127.0.0.1:PORT", value)  # each sandbox has its ports
    if isinstance(value, int | float | bool) or value is None:
        return value
    return plain(str(value))


def _airtable(emulator: Any) -> Any:
    return {
        base_id: {
            table.name: {r["id"]: r["fields"] for r in emulator.records(base_id, table.name)}
            for table in base.tables
        }
        for base_id, base in emulator.bases.items()
    }


def _jira(emulator: Any) -> Any:
    with emulator.lock:
        return {
            issue.key: {
                "fields": issue.fields,
                "properties": issue.properties,
                "remote_links": [
                    (r.global_id, r.relationship, r.object) for r in issue.remote_links
                ],
                "comments": len(issue.comments),
            }
            for issue in emulator.state.issues.values()
        }


def _pwa(emulator: Any) -> Any:
    out = {}
    for project in emulator.projects():
        pid = str(project["Id"])
        plan = emulator.published(pid)
        out[pid] = {
            "props": plan.props,
            "custom": plan.custom,
            "tasks": {str(t["Id"]): t for t in plan.tasks},
            "links": plan.links,
            "checked_out_by": emulator.checked_out_by(pid),
        }
    return out


# Dataverse's schedule API journals every call as an operation set (a new row per attempt)
JOURNALS = frozenset({"msdyn_operationsets", "msdyn_operationsetdetails"})


def _dataverse(emulator: Any) -> Any:
    tables = emulator.tables
    with tables.lock:
        return {name: dict(rows) for name, rows in tables.rows.items() if name not in JOURNALS}


SNAPSHOTS: dict[str, Callable[[Any], Any]] = {
    "airtable": _airtable,
    "jira": _jira,
    "pwa": _pwa,
    "dataverse": _dataverse,
}


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_labels(store_url: str) -> dict[str, str]:
    """Canonical id -> a name that is the same in every run: the entity's type and the
    smallest of its tools' ids (seeded, so stable), since canonical ids are random uuid4s."""
    store = Store.open(store_url)
    try:
        with store.sessions() as session:
            rows = session.execute(
                select(models.Link.canonical_id, models.Link.entity_type, models.Link.external_id)
            )
            ids: dict[str, tuple[str, str]] = {}
            for canonical_id, entity_type, external_id in rows:
                seen = ids.get(canonical_id)
                if seen is None or external_id < seen[1]:
                    ids[canonical_id] = (entity_type, external_id)
    finally:
        store.close()
    return {cid: f"<{kind} {ext}>" for cid, (kind, ext) in ids.items()}


def _relabel(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _relabel(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [_relabel(v, labels) for v in value]
    if isinstance(value, str) and UUID.search(value):
        return UUID.sub(lambda m: labels.get(m.group(0), m.group(0)), value)
    return value


def snapshot(slice_: Slice) -> dict[str, Any]:
    """Every tool's state in the sandbox (sign-in services have none), comparable with ==;
    the pmo-sync ids the tools carry named as canonical_labels says."""
    url = YAML().load(slice_.config.read_text())["store"]["url"]
    labels = canonical_labels(url)
    return {
        name: _relabel(plain(SNAPSHOTS[service.spec.kind](service.emulator)), labels)
        for name, service in sorted(slice_.sandbox.services.items())
        if service.spec.kind in SNAPSHOTS
    }


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, field by field ('pmo_airtable/app…/Projects/rec…/Name')."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = []
        for key in sorted(set(left) | set(right), key=str):
            if key not in left or key not in right:
                out.append(f"{path}/{key}: only in {'right' if key not in left else 'left'}")
            else:
                out.extend(differences(left[key], right[key], f"{path}/{key}"))
        return out
    if left != right:
        return [f"{path}: {str(left)[:80]!r} != {str(right)[:80]!r}"]
    return []


@contextmanager
def open_slice(
    target: Target, directory: Path, *, timeout_seconds: float | None = None
) -> Iterator[Slice]:
    """A fresh sandbox for ``target`` with a SQLite store; ``timeout_seconds`` shortens every
    connection's HTTP timeout (for stalls)."""
    sandbox = Sandbox(target.scenario(), directory / "sandbox").start()
    try:
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        config["store"]["url"] = f"sqlite:///{directory / 'store.db'}"
        if timeout_seconds is not None:
            for connection in config["connections"].values():
                connection["timeout_seconds"] = timeout_seconds
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        yield Slice(sandbox, sandbox.config_path)
    finally:
        sandbox.stop()


def converge(slice_: Slice, *, runs: int = 3) -> dict[str, Any]:
    """Sync until a run plans nothing (at most ``runs``); returns the last report."""
    report: dict[str, Any] = {}
    for _ in range(runs):
        code, report = slice_.sync()
        assert code == 0, report
        if not report["plan"]:
            return report
    raise AssertionError(f"no convergence after {runs} runs: {report['plan']}")


def reference(target: Target, directory: Path) -> dict[str, Any]:
    """Every tool's state after an uninterrupted, fault-free run (and its convergence)."""
    with open_slice(target, directory) as slice_:
        code, first = slice_.sync("--full")
        assert code == 0, first
        converge(slice_)
        return snapshot(slice_)


def secrets_of(slice_: Slice) -> list[str]:
    """Every credential the sandbox holds (tokens, client secrets, passwords)."""
    out: set[str] = set()
    for service in slice_.sandbox.services.values():
        out.update(v for v in service.spec.secrets.values() if isinstance(v, str))
        for key, value in service.spec.credentials.items():
            if isinstance(value, str) and any(
                word in key.lower() for word in ("token", "secret", "password")
            ):
                out.add(value)
    return sorted(s for s in out if len(s) >= 8)


def store_files(slice_: Slice) -> list[Path]:
    url = YAML().load(slice_.config.read_text())["store"]["url"]
    database = Path(url.removeprefix("sqlite:///"))
    return [p for p in database.parent.glob(database.name + "*") if p.is_file()]


def leaks(slice_: Slice, logs: list[Path], texts: tuple[str, ...] = ()) -> list[str]:
    """Where a sandbox secret appears in what pmo-sync wrote: logs, reports, the store."""
    secrets = secrets_of(slice_)  # named by number: a failure message never shows one
    found = [f"report: secret #{i}" for i, s in enumerate(secrets) for t in texts if s in t]
    for path in [*logs, *store_files(slice_)]:
        data = path.read_bytes()
        found += [f"{path.name}: secret #{i}" for i, s in enumerate(secrets) if s.encode() in data]
    return found
