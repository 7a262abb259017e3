"""Quiet runs: a run whose inputs equal those of a converged run changes nothing, so it is
recognised after the pull and skips reconcile, analysis and planning.

A cron sync every 15 minutes mostly finds nothing new. Loading, reconciling, scheduling and
planning the whole portfolio again would cost O(store) to learn that nothing needs writing; a
quiet run costs O(records pulled).

The rule is conservative; the run is quiet only when all of these hold:

* the previous non-dry run finished ``ok``, its plan left nothing for a later run (no
  reference whose target it was creating, no create another tool gets once this one landed:
  sync/deferred.py) and every write it planned, create or update, succeeded: it converged,
  every tool holds what the analysis computed (conflicts a policy settled are written
  everywhere and not seen again; ones held for a person stay held and are reported again);
* its inputs fingerprint equals this run's: the same configuration and mappings, the same
  connections, the same portfolio day (RAG and slack depend on today);
* no write is pending in the outbox and no person has resolved a conflict since;
* this run is incremental (not ``--full``, not a backfill window, not a file import), every
  connection pulled, and every record pulled is one the store links already, alive, with the
  same values, the same references and no unknown pmo-sync id (an echo of our own write, or a
  record inside the overlap, is no change; a tool that changed what we wrote is). Records
  that share an identity key inside one tool are set aside and reported, as ingest
  quarantines them unread; references are judged by what they resolve to, as ingest does.

Reconcile, analyse and plan are deterministic functions of the store, the configuration and the
day, so with unchanged inputs they would reproduce the converged run's outcome: nothing to write.
The run records its cursors and quarantined records as usual, and names the run whose
analysis stands (``analysis_run``), which the reports read.

A run that does change something still works in proportion to the change where it safely can:
after a run that settled under the same inputs (``Previous.settled_with``), reconcile decides
only the entities whose links changed, plus held conflicts and a person's resolutions (see
``Engine._reconcile_scope``); and a schedule equal to the standing one is not stored again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, update

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined, RemotePointer
from pmosync.canonical_model.provenance import NAMED_POINTER
from pmosync.config.loader import LoadedConfig
from pmosync.sync import models
from pmosync.sync.identify import saved_again
from pmosync.sync.recovery import split_ambiguous
from pmosync.sync.store import Store

# Rows per IN (...) lookup of pulled records' links.
LOOKUP_CHUNK = 500


def inputs_fingerprint(loaded: LoadedConfig, connections: Sequence[str]) -> str:
    """What a run's outcome depends on besides the store and the day: configuration,
    mappings and the connections taking part."""
    digest = hashlib.sha256()
    digest.update(loaded.config.model_dump_json().encode())
    for name in sorted(loaded.mappings):
        digest.update(name.encode())
        digest.update(loaded.mappings[name].model_dump_json().encode())
    digest.update(",".join(sorted(connections)).encode())
    return digest.hexdigest()


@dataclass
class Previous:
    """The last finished, non-dry run."""

    run_id: int
    status: str
    report: dict[str, Any]

    @property
    def held_conflicts(self) -> list[dict[str, Any]]:
        """The conflicts it held for a person: still open, reported again by a quiet run."""
        return [c for c in self.report.get("conflicts") or () if c.get("held")]

    @property
    def analysis_run(self) -> int:
        """The run whose schedule, findings and roll-ups stand (itself, unless quiet)."""
        return int(self.report.get("analysis_run") or self.run_id)

    def settled_with(self, inputs: str) -> bool:
        """It finished ok under the same inputs: every decision and every write settled, so
        the merge bases equal what each tool holds for every record not pulled since."""
        report = self.report
        return (
            self.status == "ok"
            and report.get("inputs") == inputs
            and not report.get("write_errors")
            and all(c.get("status") == "ok" for c in (report.get("connections") or {}).values())
        )

    def converged_with(self, inputs: str, today: date) -> bool:
        """Settled, on the same day, nothing left to decide, and nothing left to write: its
        plan left nothing for a later run (``deferred``, sync/deferred.py: a reference whose
        target it created, a create another tool gets once this one landed) and every write
        it planned, create or update, landed. Then every tool holds what the analysis
        computed, and a whole run on the same inputs would plan nothing. Whether the tools
        kept what we wrote is the echo check's question."""
        report = self.report
        if not self.settled_with(inputs) or report.get("today") != today.isoformat():
            return False
        # A conflict a policy settled is not seen again once the writes landed: settle_bases
        # made each tool's base what it holds after them, so no tool differs from its base
        # (reconcile.decide). One held for a person stays held, unchanged, until they
        # resolve it (which ends quiet runs: people_waiting).
        if "deferred" not in report:
            # a report from before plans said what they left: a create may have left a
            # reference for the next run, so only updates count
            if any(w.get("op") != "update" for w in report.get("plan") or []):
                return False
        elif report["deferred"]:
            return False
        connections = (report.get("connections") or {}).values()
        return all(
            c.get("writes_applied") == c.get("writes_planned") and not c.get("writes_failed")
            for c in connections
        )


def previous_run(store: Store) -> Previous | None:
    with store.sessions() as session:
        last = session.scalars(
            select(models.Run)
            .where(models.Run.dry_run.is_(False), models.Run.status != "running")
            .order_by(models.Run.id.desc())
            .limit(1)
        ).first()
        if last is None or not last.report:
            return None
        return Previous(last.id, last.status, last.report)


def people_waiting(store: Store) -> bool:
    """A write pending in the outbox (a run died), or a conflict a person resolved."""
    with store.sessions() as session:
        pending = session.scalar(
            select(func.count()).select_from(models.Outbox).where(models.Outbox.status == "pending")
        )
        resolved = session.scalar(
            select(func.count())
            .select_from(models.Conflict)
            .where(models.Conflict.status == "resolved")
        )
        return bool(pending or resolved)


def open_conflict_entities(store: Store) -> set[str]:
    """Entities with a conflict held open: decided again every run until a person settles it."""
    with store.sessions() as session:
        rows = session.scalars(
            select(models.Conflict.canonical_id).where(models.Conflict.status == "open")
        )
        return set(rows)


@dataclass
class Echoes:
    """Links whose record came back unchanged but with a new version (our own write's echo,
    or a save that changed nothing we map): what the identify stage would have stored; and
    the records it would have quarantined as ambiguous (two records of one tool, one identity
    key), which a quiet run reports the same way."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[Quarantined] = field(default_factory=list)


def unchanged(
    store: Store,
    pulled: Mapping[str, Sequence[PulledRecord]],
    identity: Mapping[EntityType, str],
    *,
    unique_in: Collection[str] | None = None,
) -> Echoes | None:
    """Echoes to record when every pulled record is one the store holds unchanged; None as
    soon as one record is new, revived, re-pointed, re-identified or changed.

    It asks what ``identify.ingest`` (called with the same ``identity`` and ``unique_in``)
    would: records sharing an identity key inside one tool are set aside first, as ingest
    quarantines them without reading them (they are no change: at portfolio-M twenty Jira
    project categories over three programme names were, and kept every run from being quiet).
    """
    links = models.table_of(models.Link)
    echoes = Echoes()
    with store.sessions() as session:

        def by_key(connection: str, external_ids: set[str]) -> dict[tuple[str, str], Any]:
            if not external_ids:
                return {}
            rows = session.execute(
                select(links).where(
                    links.c.connection == connection, links.c.external_id.in_(external_ids)
                )
            )
            return {(row.entity_type, row.external_id): row for row in rows}

        for connection, listed in pulled.items():
            records: Sequence[PulledRecord] = listed
            if unique_in is None or connection in unique_in:
                records, ambiguous = split_ambiguous(listed, identity)
                echoes.ambiguous.extend(ambiguous)
            for start in range(0, len(records), LOOKUP_CHUNK):
                chunk = records[start : start + LOOKUP_CHUNK]
                stored = by_key(connection, {r.ref.external_id for r in chunk})
                targets = by_key(connection, {p.external_id for r in chunk for p in _linked(r)})
                for record in chunk:
                    row = stored.get((record.ref.entity_type.value, record.ref.external_id))
                    if row is None or row.deleted_at is not None:
                        return None
                    if not _same_values(record, row) or not _same_references(record, row, targets):
                        return None
                    record_hash = record.hash
                    pointers = {**(row.pointers or {}), **_pointer_ids(record)}
                    if (
                        row.version_token != record.ref.version_token
                        or row.content_hash != record_hash
                        or row.pointers != pointers
                    ):
                        echoes.versions.append(
                            {
                                "_id": row.id,
                                "version_token": record.ref.version_token,
                                "source_modified_at": record.ref.source_modified_at,
                                "content_hash": record_hash,
                                "pointers": pointers,
                            }
                        )
    return echoes


_MISSING = object()


def _same_values(record: PulledRecord, row: Any) -> bool:
    """Ingest's test for values: no pmo-sync id other than the link's, and either the same
    content hash as when last read, or every value equal to what the store last knew the tool
    held, our own writes included (an echo of our write is no change)."""
    if record.pmo_id is not None and record.pmo_id != row.canonical_id:
        return False
    if row.content_hash == record.hash and not saved_again(
        row.version_token, record.ref.version_token
    ):
        return True
    remote = row.remote_values or {}
    return all(remote.get(k, _MISSING) == v for k, v in record.values.items())


def _pointer_ids(record: PulledRecord) -> dict[str, str]:
    return {name: pointer.external_id for name, pointer in record.pointers.items()}


def _linked(record: PulledRecord) -> list[RemotePointer]:
    """The references ingest resolves through this connection's links (a named reference is
    resolved against the whole store by named_refs, from the pointer text alone)."""
    return [p for p in record.pointers.values() if not p.external_id.startswith(NAMED_POINTER)]


def _same_references(
    record: PulledRecord, row: Any, targets: Mapping[tuple[str, str], Any]
) -> bool:
    """Ingest's test for references, made on every read whatever the hash: a named reference
    keeps its text; any other still resolves to the entity the link holds for it (the merge
    reads only that). So the echo of our own reference write, which comes back under the
    target's external id where the link last held another, is no change; a reference a
    person moved, a target linked since (a reference dangling when last read) or tombstoned
    since is one."""
    remote, pointers = row.remote_values or {}, row.pointers or {}
    for name, pointer in record.pointers.items():
        if pointer.external_id.startswith(NAMED_POINTER):
            if pointers.get(name) != pointer.external_id:
                return False
            continue
        target = targets.get((pointer.entity_type.value, pointer.external_id))
        resolved = None if target is None or target.deleted_at else target.canonical_id
        if remote.get(name) != resolved:
            return False
    return True


def record_echoes(session: Any, echoes: Echoes) -> None:
    """The new versions and content hashes of unchanged records (in the caller's
    transaction), as the identify stage would have stored them."""
    if echoes.versions:
        links = models.table_of(models.Link)
        session.execute(
            update(links).where(links.c.id == bindparam("_id")),
            echoes.versions,
        )
