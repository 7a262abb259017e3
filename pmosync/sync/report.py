"""The run report: what a run did, stored with the run and printed (text or JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ConnectionReport:
    name: str
    kind: str
    status: str = "ok"  # ok, failed, skipped
    error: str | None = None
    error_kind: str | None = None  # auth, config, retriable, fatal
    pulled: int = 0
    new: int = 0  # records seen for the first time
    changed: int = 0  # known records whose content changed since the last pull
    quarantined: int = 0
    writes_planned: int = 0
    writes_applied: int = 0
    writes_failed: int = 0
    api_calls: int = 0
    scopes: dict[str, int] = field(default_factory=dict)
    # seconds waited, by why (pacing, Retry-After, backoff, queue jobs, search lag)
    waited: dict[str, float] = field(default_factory=dict)


@dataclass
class RunReport:
    run_id: int | None = None
    status: str = "ok"  # ok, partial, failed
    dry_run: bool = False
    full: bool = False
    started_at: str = ""
    finished_at: str = ""
    duration_seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per stage of the run
    connections: dict[str, ConnectionReport] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    unresolved_references: int = 0
    plan: list[dict[str, Any]] = field(default_factory=list)
    # what the plan left for the next run (sync/deferred.py): a reference whose target this
    # run creates, a create another tool gets once this run's lands; empty: nothing left
    deferred: list[dict[str, Any]] = field(default_factory=list)
    write_errors: list[dict[str, Any]] = field(default_factory=list)
    # records a complete listing no longer had (kept, no longer counting), and ones back again
    tombstoned: list[dict[str, Any]] = field(default_factory=list)
    revived: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # advice for the operator (e.g. run --full)
    # programme and portfolio roll-ups of this run (sync/rollups.py)
    rollups: dict[str, Any] = field(default_factory=dict)
    # the analyse stage: portfolio schedule, dependency findings, cross-tool links
    schedule: dict[str, Any] = field(default_factory=dict)
    # explicit cross-tool links naming an item no tool holds (yet), with the reason
    unresolved_names: list[dict[str, Any]] = field(default_factory=list)
    # what the outcome depends on besides the store (sync/quiet.py), and for a quiet run the
    # run whose analysis (schedule, findings, roll-ups) still stands
    inputs: str = ""
    today: str = ""  # the portfolio day the analysis used
    analysis_run: int | None = None
    quiet_since: int | None = None  # a quiet run: the converged run nothing changed since
    analysis_digest: str = ""  # of the stored schedule and findings (sync/analyse.py)

    @property
    def api_calls(self) -> int:
        return sum(c.api_calls for c in self.connections.values())

    @property
    def writes_applied(self) -> int:
        return sum(c.writes_applied for c in self.connections.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """A stored report (``to_dict``) back as an object, for `pmo-sync runs show`."""
        known = {f for f in cls.__dataclass_fields__ if f != "connections"}
        report = cls(**{k: v for k, v in data.items() if k in known})
        conn_fields = set(ConnectionReport.__dataclass_fields__)
        report.connections = {
            name: ConnectionReport(**{k: v for k, v in conn.items() if k in conn_fields})
            for name, conn in (data.get("connections") or {}).items()
        }
        return report

    def to_dict(self) -> dict[str, Any]:
        # Shallow: the sections already hold plain JSON values, and a deep copy of a large
        # run's plan and findings took seconds.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["connections"] = {name: asdict(conn) for name, conn in self.connections.items()}
        data["api_calls"] = self.api_calls
        data["writes_applied"] = self.writes_applied
        return data
