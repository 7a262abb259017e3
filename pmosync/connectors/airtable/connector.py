"""Airtable connector: incremental pull by LAST_MODIFIED_TIME, push by batch upsert."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import requests
from pyairtable import Api

from pmosync.canonical_model import (
    EntityType,
    ExternalRef,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    WriteResult,
    content_hash,
)
from pmosync.config.connections import AirtableConnection
from pmosync.config.mapping import TeamMapping
from pmosync.connectors.airtable.mapper import (
    ResolvedField,
    TableMap,
    parse_time,
    to_canonical,
    to_remote,
)
from pmosync.connectors.base import Capabilities, Scope, paginate
from pmosync.connectors.http import HttpPolicy, mount_policy, translate_exception
from pmosync.connectors.isolation import record_problem
from pmosync.errors import ConfigError, FatalConnectorError, PmoSyncError, SkippableRecordError

PAGE_SIZE = 100
BATCH = 10  # Airtable's maximum records per write
ITERATOR_RESTARTS = 3


class AirtableConnector:
    """Implements the Connector protocol for one Airtable base."""

    def __init__(
        self,
        name: str,
        config: AirtableConnection,
        mappings: list[TeamMapping],
        *,
        overlap_seconds: float = 300.0,
    ) -> None:
        self.name = name
        self.config = config
        self.overlap = timedelta(seconds=overlap_seconds)
        token = config.token.resolve("token", connection=name)
        self.api = Api(
            token,
            timeout=(10, int(config.timeout_seconds)),
            # Retries belong to our policy layer: it rides out Airtable's 30 s lock-out with one
            # wait instead of pyairtable's five quick retries that each restart the penalty.
            retry_strategy=None,
            endpoint_url=config.endpoint_url.rstrip("/"),
        )
        self.adapter = mount_policy(
            self.api.session,
            HttpPolicy(
                requests_per_second=config.requests_per_second,
                lockout_seconds=config.lockout_seconds + 0.5,
                max_backoff=max(60.0, config.lockout_seconds + 1),
                max_total_wait=max(180.0, 4 * config.lockout_seconds),
                read_timeout=config.timeout_seconds,
                max_attempts=config.max_attempts,
                retry_writes=True,  # every write is an upsert on a merge key
            ),
            ca_bundle=str(config.ca_bundle) if config.ca_bundle else None,
        )
        self.mappings = mappings
        self._tables: dict[EntityType, TableMap] | None = None

    # -- schema -----------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PmoSyncError:
            raise
        except (requests.RequestException, OSError) as exc:
            raise translate_exception(exc, connection=self.name, what=what) from None

    @property
    def tables(self) -> dict[EntityType, TableMap]:
        if self._tables is None:
            self._tables = self._resolve_tables()
        return self._tables

    def _resolve_tables(self) -> dict[EntityType, TableMap]:
        base = self.api.base(self.config.base_id)
        schema = self._call("reading the base schema", base.schema, force=True)
        problems: list[str] = []
        tables: dict[EntityType, TableMap] = {}
        for mapping in self.mappings:
            for entity_type, entity in mapping.entities.items():
                where = f"{mapping.source} › entities.{entity_type.value}"
                table = next((t for t in schema.tables if entity.table in (t.id, t.name)), None)
                if table is None:
                    problems.append(f"{where}.table: no table {entity.table!r} in the base")
                    continue
                by_key = {f.id: f for f in table.fields} | {f.name: f for f in table.fields}
                resolved = []
                for canonical, fm in entity.fields.items():
                    remote = by_key.get(fm.field)
                    if remote is None:
                        problems.append(
                            f"{where}.fields.{canonical}: table {table.name!r} has no field "
                            f"{fm.field!r} (it may have been deleted)"
                        )
                        continue
                    resolved.append(ResolvedField(canonical, remote.id, remote.type, fm.values))
                id_field = None
                if entity.id_field:
                    remote = by_key.get(entity.id_field)
                    if remote is None:
                        problems.append(f"{where}.id_field: no field {entity.id_field!r}")
                    else:
                        id_field = remote.id
                modified = next((f.id for f in table.fields if f.type == "lastModifiedTime"), None)
                tables[entity_type] = TableMap(
                    entity_type, table.id, tuple(resolved), id_field, dict(entity.options), modified
                )
        if problems:
            # Fail closed: a field that vanished must not read as "every value is now empty".
            raise ConfigError(
                f"the mapping does not match base {self.config.base_id}: " + "; ".join(problems),
                connection=self.name,
                problems=problems,
            )
        return tables

    # -- Connector protocol -----------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        readable: dict[EntityType, frozenset[str]] = {}
        writable: dict[EntityType, frozenset[str]] = {}
        creatable: set[EntityType] = set()
        for mapping in self.mappings:
            for entity_type, entity in mapping.entities.items():
                readable[entity_type] = entity.readable(entity_type) | frozenset(entity.options)
                if entity_type is EntityType.WORK_ITEM:
                    readable[entity_type] |= {"schedule_mode"}  # "entered" on dated rows
                writable[entity_type] = entity.writable(entity_type)
                # Only with a pmo-sync id field: the merge key is what makes a retried create
                # update its own earlier success instead of adding a duplicate row.
                if entity.create_missing and entity.id_field:
                    creatable.add(entity_type)
        return Capabilities(readable=readable, writable=writable, can_create=frozenset(creatable))

    def scopes(self) -> list[Scope]:
        return [Scope(f"{et.value}:{t.table_id}", et) for et, t in self.tables.items()]

    def api_calls(self) -> int:
        return self.adapter.stats.requests

    def waits(self) -> dict[str, float]:
        return dict(self.adapter.stats.waited)

    def close(self) -> None:
        self.api.session.close()

    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        table = self.tables[scope.entity_type]
        options: dict[str, Any] = {
            "page_size": PAGE_SIZE,
            "use_field_ids": True,
            "fields": sorted(
                {f.field_id for f in table.fields}
                | {f for f in (table.modified_field, table.id_field) if f}
            ),
        }
        conditions = []
        if since is not None:
            start = (since - self.overlap).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            conditions.append(f"IS_AFTER(LAST_MODIFIED_TIME(), '{start}')")
        if until is not None:
            end = until.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            conditions.append(f"IS_BEFORE(LAST_MODIFIED_TIME(), '{end}')")
        if conditions:
            options["formula"] = (
                conditions[0] if len(conditions) == 1 else f"AND({', '.join(conditions)})"
            )
        seen: set[str] = set()
        for record in self._list(table.table_id, options):
            if record["id"] in seen:
                continue  # a restarted listing repeats what it already gave
            seen.add(record["id"])
            yield self._map(record, table)

    def _list(self, table_id: str, options: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """All records; a listing whose offset expired is restarted (offsets live minutes)."""
        table = self.api.table(self.config.base_id, table_id)
        url = table.urls.records
        fallback = ("post", table.urls.records_post)
        for attempt in range(ITERATOR_RESTARTS + 1):

            def fetch(offset: str | None) -> tuple[list[dict[str, Any]], str | None]:
                page_options = {**options, **({"offset": offset} if offset else {})}
                page = self._call(
                    f"listing table {table_id}",
                    self.api.request,
                    "get",
                    url,
                    fallback=fallback,
                    options=page_options,
                )
                if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                    raise FatalConnectorError(
                        f"listing table {table_id}: unexpected response shape", connection=self.name
                    )
                return page["records"], page.get("offset")

            try:
                yield from paginate(fetch, what=f"{self.name} table {table_id}")
                return
            except SkippableRecordError as exc:
                if (
                    "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" not in str(exc)
                    or attempt == ITERATOR_RESTARTS
                ):
                    raise FatalConnectorError(str(exc), connection=self.name) from None

    def _map(self, record: dict[str, Any], table: TableMap) -> PulledRecord | Quarantined:
        try:
            values, pointers = to_canonical(record, table)
        except Exception as exc:  # one record's problem, never its connection's (isolation)
            problem = record_problem(exc)
            if problem is None:
                raise
            return Quarantined(self.name, table.entity_type, str(record.get("id")), problem)
        modified = None
        if table.modified_field:
            modified = parse_time((record.get("fields") or {}).get(table.modified_field))
        token = modified.isoformat() if modified else content_hash(record.get("fields") or {})
        ref = ExternalRef(self.name, table.entity_type, record["id"], None, token, modified)
        pmo_id = (record.get("fields") or {}).get(table.id_field) if table.id_field else None
        return PulledRecord(
            ref, values, pointers, pmo_id=pmo_id if isinstance(pmo_id, str) else None
        )

    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        by_table: dict[EntityType, list[tuple[int, PlannedWrite]]] = {}
        for index, write in enumerate(writes):
            by_table.setdefault(write.entity_type, []).append((index, write))
        for entity_type, items in by_table.items():
            table = self.tables[entity_type]
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                results.update(self._push_batch(table, batch))
        return [results[i] for i in range(len(writes))]

    def _payload(self, table: TableMap, write: PlannedWrite) -> dict[str, Any]:
        cells = to_remote(write.values, table)
        if table.id_field:
            cells[table.id_field] = write.canonical_id
        record: dict[str, Any] = {"fields": cells}
        if write.external_id:
            record["id"] = write.external_id
        return record

    def _push_batch(
        self, table: TableMap, batch: list[tuple[int, PlannedWrite]]
    ) -> dict[int, WriteResult]:
        at_table = self.api.table(self.config.base_id, table.table_id)
        records = [self._payload(table, write) for _, write in batch]
        try:
            if table.id_field:
                reply = self._call(
                    f"writing to table {table.table_id}",
                    at_table.batch_upsert,
                    records,
                    key_fields=[table.id_field],
                    use_field_ids=True,
                )
                written = reply["records"]
            else:
                written = self._call(
                    f"writing to table {table.table_id}",
                    at_table.batch_update,
                    records,
                    use_field_ids=True,
                )
        except SkippableRecordError as exc:
            if len(batch) > 1:
                # One bad record fails the whole batch of ten; write them one by one so the
                # other nine still land and the bad one is named.
                out: dict[int, WriteResult] = {}
                for item in batch:
                    out.update(self._push_batch(table, [item]))
                return out
            index, write = batch[0]
            gone = _gone_record(str(exc), write.external_id)
            return {
                index: WriteResult(
                    write.outbox_id, False, write.external_id, error=str(exc), gone=gone
                )
            }
        out = {}
        for (index, write), record in zip(batch, written, strict=True):
            modified = None
            if table.modified_field:
                modified = parse_time(record.get("fields", {}).get(table.modified_field))
            out[index] = WriteResult(
                write.outbox_id,
                True,
                record["id"],
                modified.isoformat() if modified else None,
            )
        return out


_ROW_MISSING = re.compile(r"Record ID (rec[A-Za-z0-9]+) does not exist")


def _gone_record(error: str, external_id: str | None) -> str | None:
    """The record a failed write found deleted, from Airtable's answer: a batch write answers
    422 ROW_DOES_NOT_EXIST naming the record, whether it is the one written or one a
    linked-record cell names (github.com/domdomegg/airtable-mcp-server/issues/28); a
    single-record route answers 404 MODEL_ID_NOT_FOUND (airtable.com/developers/web/api/errors)."""
    missing = _ROW_MISSING.search(error)
    if "ROW_DOES_NOT_EXIST" in error and missing:
        return missing.group(1)
    if "HTTP 404" in error and external_id:
        return external_id
    return None
