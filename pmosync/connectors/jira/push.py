"""Writes to Jira: field edits, transitions, creates, issue links and remote links.

Every write reads the issue first and sends only what differs, so a repeated or re-planned
push makes no edit request. A write that cannot be applied becomes a failed
:class:`WriteResult` naming the reason; only connection-level failures (auth, unreachable,
rate limit outlasting the retries) raise.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import requests
from jira import JIRAError

from pmosync.canonical_model import (
    ENTITY_CLASSES,
    EntityType,
    PlannedWrite,
    PulledRecord,
    WriteResult,
)
from pmosync.config.mapping import EntityMapping, FieldMapping, TeamMapping
from pmosync.connectors.jira.client import JiraClient, JqlRefused, jira_error_text
from pmosync.connectors.jira.keys import IssueKeys
from pmosync.connectors.jira.mapper import (
    FieldSpec,
    IssueProfile,
    LinkProfile,
    MappingProblem,
    _pointer,
    canonical_type,
    expected_remote_types,
    jql_quote,
    map_links,
    read_status,
    read_value,
    same_value,
    target_status,
    write_value,
)
from pmosync.connectors.jira.marker import LABELS_FIELD, marker_label, markers_in
from pmosync.errors import ConfigError, PmoSyncError

if TYPE_CHECKING:
    from pmosync.connectors.jira.connector import Prepared

log = logging.getLogger(__name__)

PROPERTY_KEY = "pmo-sync"
ISSUE_ENTITIES = (EntityType.WORK_ITEM, EntityType.RAID_ITEM)
# Canonical fields an edit cannot change in Jira (moving projects or types is a UI flow).
NOT_WRITABLE = frozenset({"key", "kind", "project"})
PROPERTY_PREFIX = "property:"


def property_key(remote: str) -> str | None:
    """``property:pmo-sync.status`` names a project entity property; else None."""
    if remote.startswith(PROPERTY_PREFIX):
        return remote[len(PROPERTY_PREFIX) :].strip() or None
    return None


def status_issues(entity: EntityMapping) -> dict[str, Any]:
    """Project key -> issue key carrying the project's status fields (options.status_issues)."""
    value = entity.options.get("status_issues")
    return dict(value) if isinstance(value, dict) else {}


def project_writable(entity: EntityMapping) -> frozenset[str]:
    """Project fields Jira can take: into a project property, or onto a named status issue."""
    has_issue = bool(status_issues(entity))
    return frozenset(
        name
        for name in entity.writable(EntityType.PROJECT)
        if property_key(entity.fields[name].field) is not None or has_issue
    )


# How long a create whose answer was lost waits for Cloud's search to show its issue. Most
# writes are searchable "within seconds", some take minutes (developer.atlassian.com/cloud/
# jira/platform/search-and-reconcile); past this the write is reported failed and the next
# run, minutes later, looks again before creating.
TWIN_SETTLE_SECONDS = 30.0


class IssueWriter:
    """Applies planned writes for one connection (shares its client and key index)."""

    def __init__(
        self,
        name: str,
        client: JiraClient,
        mappings: Sequence[TeamMapping],
        keys: IssueKeys,
        remember: Callable[[Iterable[str]], None],
    ) -> None:
        self.name = name
        self.client = client
        self.mappings = list(mappings)
        self.keys = keys
        # Issue ids written are handed back for reconcileIssues on the next search.
        self.remember = remember
        self._created: dict[str, str] = {}  # pmo-sync id -> issue id created by this process
        # Cloud lets only admins mute notifications; after one refusal we stop asking.
        self.notify_off_allowed = True
        self.twin_settle_seconds = TWIN_SETTLE_SECONDS

    def push(self, prep: Prepared, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        """Apply writes one by one; a write that cannot be applied is a failed result.

        Each update reads the issue first and sends only fields whose remote value differs,
        so a repeated push (or one re-planned from stale state) makes no edit requests.
        Connection-level failures (auth, unreachable) raise.
        """
        results: list[WriteResult] = []
        for write in writes:
            try:
                if write.entity_type is EntityType.DEPENDENCY:
                    result = self._push_dependency(prep, write)
                elif write.entity_type is EntityType.PROJECT and write.op == "update":
                    result = self._push_project(prep, write)
                elif write.entity_type not in ISSUE_ENTITIES:
                    result = self._failed(write, f"{write.entity_type.value} is read-only in Jira")
                elif write.op == "create":
                    result = self._push_create(prep, write)
                else:
                    result = self._push_update(prep, write)
            except _WriteFailed as failed:
                result = self._failed(write, str(failed))
            except PmoSyncError as exc:
                if isinstance(exc, ConfigError) or not _is_record_error(exc):
                    raise
                result = self._failed(write, str(exc))
            results.append(result)
        return results

    # -- consolidated status on a project: project properties and a status issue ----------
    def _project_mapping(self) -> dict[str, FieldMapping]:
        out: dict[str, FieldMapping] = {}
        for mapping in self.mappings:
            entity = mapping.entities.get(EntityType.PROJECT)
            if entity is not None:
                out.update(entity.fields)
        return out

    def _status_issues(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for mapping in self.mappings:
            entity = mapping.entities.get(EntityType.PROJECT)
            if entity is not None:
                out.update({str(k): str(v) for k, v in status_issues(entity).items()})
        return out

    def _push_project(self, prep: Prepared, write: PlannedWrite) -> WriteResult:
        """Project fields go where the mapping says: ``property:KEY`` fields into that project
        entity property (one JSON object per key, the canonical field names as its keys),
        other fields onto the project's status issue (options.status_issues). Each target is
        read first and written only when it differs, so a repeated push sends nothing."""
        if not write.external_id:
            raise _WriteFailed("update without an external id")
        fields = self._project_mapping()
        by_property: dict[str, dict[str, Any]] = {}
        on_issue: dict[str, Any] = {}
        for change in write.changes:
            fm = fields.get(change.field)
            if fm is None:
                raise _WriteFailed(f"{change.field} is not mapped for project")
            value = fm.remote_for(change.new) if fm.values else change.new
            key = property_key(fm.field)
            if key is not None:
                by_property.setdefault(key, {})[change.field] = value
            else:
                on_issue[change.field] = change.new
        project_id = write.external_id
        for key, values in sorted(by_property.items()):
            path = f"project/{project_id}/properties/{key}"
            current = self._get_optional(path)
            merged = {**(current if isinstance(current, dict) else {}), **values}
            if merged != current:
                with self.client.call(f"PUT {path}"):
                    self.client.jira._session.put(self.client.url(path), data=json.dumps(merged))
        if on_issue:
            self._push_status_issue(prep, project_id, on_issue)
        return WriteResult(write.outbox_id, True, external_id=write.external_id)

    def _get_optional(self, path: str) -> Any:
        try:
            reply = self.client.get_json(path, what=f"GET {path}")
        except PmoSyncError as exc:
            if _is_record_error(exc):
                return None  # 404: not set yet
            raise
        return reply.get("value") if isinstance(reply, dict) else None

    def _push_status_issue(self, prep: Prepared, project_id: str, values: dict[str, Any]) -> None:
        project = self.client.get_json(f"project/{project_id}", what=f"GET project/{project_id}")
        key = str((project or {}).get("key") or "")
        issue_key = self._status_issues().get(key)
        if issue_key is None:
            raise _WriteFailed(
                f"project {key}: no status issue named in the mapping (options.status_issues)"
            )
        mapped = self._project_mapping()
        specs: dict[str, FieldSpec] = {}
        for name in values:
            fm = mapped[name]
            jf = prep.catalog.resolve(
                fm.field,
                where=f"entities.project.fields.{name}.field",
                expect=expected_remote_types(EntityType.PROJECT, name),
            )
            specs[name] = FieldSpec(name, jf, fm.values, "push")
        issue = self._get_issue(prep, issue_key, [s.id for s in specs.values()])
        current = issue.get("fields") or {}
        edits: dict[str, Any] = {}
        for name, value in values.items():
            spec = specs[name]
            ctype = canonical_type(EntityType.PROJECT, name)
            try:
                now = read_value(spec, current.get(spec.id), ctype)
            except MappingProblem:
                now = None
            if not same_value(ctype, now, value):
                try:
                    edits[spec.id] = write_value(spec, ctype, value, adf=prep.adf)
                except MappingProblem as exc:
                    raise _WriteFailed(str(exc)) from None
        if edits:
            self._edit(prep, str(issue.get("id") or issue_key), edits)
            self.remember([str(issue.get("id") or "")])

    def _failed(self, write: PlannedWrite, error: str) -> WriteResult:
        # an issue answered 404 by its own id was deleted in Jira (or moved out of reach):
        # the engine tombstones its link rather than failing this write on every run
        gone = (
            write.external_id
            if write.op == "update"
            and write.external_id
            and write.entity_type is not EntityType.PROJECT
            and "HTTP 404" in error
            else None
        )
        return WriteResult(
            write.outbox_id, False, external_id=write.external_id, error=error, gone=gone
        )

    def _profile_for(
        self, prep: Prepared, entity_type: EntityType, issue: Mapping[str, Any] | None
    ) -> IssueProfile:
        candidates = [p for p in prep.profiles.values() if p.entity_type is entity_type]
        if not candidates:
            raise _WriteFailed(f"no mapping for {entity_type.value} on this connection")
        if issue is not None:
            fields = issue.get("fields") or {}
            project = str((fields.get("project") or {}).get("key") or "")
            itype = (fields.get("issuetype") or {}).get("name")
            for profile in candidates:
                if (not profile.projects or project in profile.projects) and profile.accepts(itype):
                    return profile
        return candidates[0]

    def _get_issue(self, prep: Prepared, issue_id: str, fields: Iterable[str]) -> dict[str, Any]:
        try:
            with self.client.call(f"GET issue {issue_id}"):
                return dict(
                    self.client.jira._get_json(
                        f"issue/{issue_id}", params={"fields": ",".join(sorted(set(fields)))}
                    )
                )
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(f"issue {issue_id}: {exc}") from None
            raise

    def _push_update(self, prep: Prepared, write: PlannedWrite) -> WriteResult:
        if not write.external_id:
            raise _WriteFailed("update without an external id")
        profiles = [p for p in prep.profiles.values() if p.entity_type is write.entity_type]
        wanted = {"updated", "status", "resolution", "issuetype", "project"}
        for profile in profiles:
            wanted |= {s.id for s in profile.specs.values() if s.id not in ("key", "id")}
        if prep.ctx.epic_link_field:
            wanted.add(prep.ctx.epic_link_field)
        issue = self._get_issue(prep, write.external_id, wanted)
        profile = self._profile_for(prep, write.entity_type, issue)
        edits, status_goal = self._diff(prep, profile, issue, write)
        transition = None
        if status_goal is not None:
            transition = self._choose_transition(prep, profile, write.external_id, *status_goal)
        if not edits and transition is None:
            updated = (issue.get("fields") or {}).get("updated")
            return WriteResult(
                write.outbox_id, True, external_id=write.external_id, version_token=updated
            )
        if edits:
            self._edit(prep, write.external_id, edits)
        if transition is not None:
            self._transition(write.external_id, *transition)
        self.remember([write.external_id])
        after = self._get_issue(prep, write.external_id, ["updated"])
        return WriteResult(
            write.outbox_id,
            True,
            external_id=write.external_id,
            version_token=(after.get("fields") or {}).get("updated"),
        )

    def _diff(
        self, prep: Prepared, profile: IssueProfile, issue: Mapping[str, Any], write: PlannedWrite
    ) -> tuple[dict[str, Any], tuple[str, str, str] | None]:
        """Remote JSON for the fields that really differ, and the status goal if any."""
        fields = issue.get("fields") or {}
        refs = ENTITY_CLASSES[write.entity_type].references
        edits: dict[str, Any] = {}
        status_goal: tuple[str, str, str] | None = None
        for change in write.changes:
            spec = profile.specs.get(change.field)
            if spec is None:
                raise _WriteFailed(f"{change.field} is not mapped for {write.entity_type.value}")
            if spec.direction == "pull" or change.field in NOT_WRITABLE:
                raise _WriteFailed(f"{change.field} ({spec.id}) is read-only in this mapping")
            raw = fields.get(spec.id)
            if change.field == "status" and spec.id == "status":
                try:
                    current = read_status(
                        raw, fields.get("resolution"), spec.values, profile.cancelled_resolutions
                    )
                except MappingProblem:
                    current = None
                if current != change.new:
                    goal = target_status(spec.values, str(change.new))
                    if goal is None:
                        raise _WriteFailed(f"no Jira status is mapped to {change.new!r}")
                    status_goal = (str(change.new), *goal)
                continue
            if change.field in refs:
                epic_link = self._epic_link_for(prep, change.field, fields)
                if epic_link and raw is None:
                    raw = fields.get(epic_link)
                try:
                    pointer, _ = _pointer(spec, refs[change.field], raw, prep.ctx)
                except MappingProblem:
                    pointer = None
                current_ref = pointer.external_id if pointer else None
                if current_ref == change.new:
                    continue
                if epic_link:
                    # DC: a story's epic is the Epic Link field, which takes the epic's key.
                    edits[epic_link] = self.keys.key_of(change.new) if change.new else None
                else:
                    edits[spec.id] = self._ref_json(prep, refs[change.field], change.new)
                continue
            ctype = canonical_type(write.entity_type, change.field)
            try:
                current_value = read_value(spec, raw, ctype)
            except MappingProblem:
                current_value = object()
            if same_value(ctype, _jsonable(current_value), change.new):
                continue
            try:
                edits[spec.id] = write_value(spec, ctype, change.new, adf=prep.adf)
            except (MappingProblem, ValueError) as exc:
                raise _WriteFailed(str(exc)) from None
            if spec.id == LABELS_FIELD:  # a labels edit replaces them all: keep our marker
                edits[spec.id] = [*edits[spec.id], *markers_in(raw)]
        return edits, status_goal

    def _epic_link_for(
        self, prep: Prepared, canonical: str, fields: Mapping[str, Any]
    ) -> str | None:
        """The Epic Link field when ``parent`` of this issue lives there (DC, not a sub-task)."""
        if canonical != "parent" or prep.cloud or not prep.ctx.epic_link_field:
            return None
        if (fields.get("issuetype") or {}).get("subtask"):
            return None
        return prep.ctx.epic_link_field

    def _ref_json(self, prep: Prepared, target: EntityType, external_id: Any) -> Any:
        if external_id is None:
            return None
        if target is EntityType.PERSON:
            return {"accountId": str(external_id)} if prep.cloud else {"name": str(external_id)}
        return {"id": str(external_id)}

    def _edit(self, prep: Prepared, issue_id: str, edits: dict[str, Any]) -> None:
        session = self.client.jira._session
        url = self.client.url(f"issue/{issue_id}")
        body = json.dumps({"fields": edits})
        quiet = prep.cloud and self.notify_off_allowed
        try:
            with self.client.call(f"PUT issue {issue_id}"):
                try:
                    session.put(url, params={"notifyUsers": "false"} if quiet else None, data=body)
                except JIRAError as exc:
                    # Turning notifications off needs admin rights; without them Jira says 400
                    # or 403. Send the edit again with notifications, and stop asking.
                    if quiet and exc.status_code in (400, 403) and _mentions_notify(exc):
                        self.notify_off_allowed = False
                        session.put(url, data=body)
                    else:
                        raise
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(str(exc)) from None
            raise

    def _choose_transition(
        self,
        prep: Prepared,
        profile: IssueProfile,
        issue_id: str,
        canonical: str,
        kind: str,
        target: str,
    ) -> tuple[str, dict[str, Any]]:
        with self.client.call(f"GET issue/{issue_id}/transitions"):
            raw = self.client.jira._get_json(
                f"issue/{issue_id}/transitions", params={"expand": "transitions.fields"}
            )
        transitions = list((raw or {}).get("transitions") or [])
        configured = profile.options.get("transition_fields") or {}
        values = {**(configured.get("*") or {}), **(configured.get(canonical) or {})}
        candidates = []
        for transition in transitions:
            to = transition.get("to") or {}
            if kind == "status" and str(to.get("name", "")).lower() != target.lower():
                continue
            if kind == "category" and (to.get("statusCategory") or {}).get("key") != target:
                continue
            candidates.append(transition)
        if not candidates:
            raise _WriteFailed(
                f"no transition from the current status leads to {target!r} ({canonical})"
            )
        problems: list[str] = []
        for transition in candidates:
            filled, missing = self._screen_values(prep, transition, values)
            if not missing:
                return str(transition.get("id")), filled
            problems.append(f"transition {transition.get('name')!r} requires {', '.join(missing)}")
        raise _WriteFailed(
            "; ".join(problems)
            + f"; set them under options.transition_fields.{canonical} in the mapping"
        )

    def _screen_values(
        self, prep: Prepared, transition: Mapping[str, Any], values: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        screen = transition.get("fields") or {}
        filled: dict[str, Any] = {}
        by_name = {str(meta.get("name", fid)).lower(): fid for fid, meta in screen.items()}
        for ref, value in values.items():
            fid = ref if ref in screen else by_name.get(str(ref).lower())
            if fid is None:
                continue  # not on this transition's screen
            schema = (screen[fid] or {}).get("schema") or {}
            filled[fid] = _screen_json(schema.get("type") or schema.get("system"), value)
        missing = [
            str(meta.get("name") or fid)
            for fid, meta in screen.items()
            if meta.get("required") and not meta.get("hasDefaultValue") and fid not in filled
        ]
        return filled, missing

    def _transition(self, issue_id: str, transition_id: str, fields: dict[str, Any]) -> None:
        try:
            with self.client.call(f"POST issue/{issue_id}/transitions"):
                self.client.jira.transition_issue(issue_id, transition_id, fields=fields or None)
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(str(exc)) from None
            raise

    # -- creates ----------------------------------------------------------------------------
    def find_twin(self, canonical_id: str, project: str) -> tuple[str, str | None] | None:
        """(id, key) of the issue an earlier attempt created for ``canonical_id``, if any.

        Every create carries the marker label ``pmo-sync-<id>`` (marker.py), so one search on
        a field Jira always indexes finds it. Cloud's search can miss an issue created in the
        last seconds (see :meth:`_settle_twin`); by the next run it has caught up.
        """
        if canonical_id in self._created:
            return self._created[canonical_id], None
        label = jql_quote(marker_label(canonical_id))
        jql = f"project = {jql_quote(project)} AND labels = {label} ORDER BY created ASC"
        for issue in self.client.search(jql, fields=["labels"], page_size=5):
            return str(issue["id"]), issue.get("key")
        return None

    def _settle_twin(self, canonical_id: str, project: str) -> tuple[str, str | None] | None:
        """After a create whose answer was lost: its issue, once search can show it.

        Cloud's ``search/jql`` is eventually consistent ("the majority of modifications are
        shown within seconds": developer.atlassian.com/cloud/jira/platform/search-and-
        reconcile), and ``reconcileIssues`` needs the id we never got, so the search is
        repeated with doubling pauses for up to ``twin_settle_seconds``. Data Center's search
        is consistent: one look decides.
        """
        cloud = self.client.server_info().is_cloud
        deadline = time.monotonic() + (self.twin_settle_seconds if cloud else 0.0)
        pause = 0.5
        while True:
            found = self.find_twin(canonical_id, project)
            left = deadline - time.monotonic()
            if found is not None or left <= 0:
                return found
            time.sleep(min(pause, left))
            self.client.adapter.note_wait("search lag", min(pause, left))
            pause *= 2

    def _post_issue(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST /issue; None when the request went out and its answer never came back.

        A dropped connection, a read timeout or a 5xx that is not throttling (a gateway
        that gave up while Jira went on) leaves the outcome unknown: the issue may exist.
        Throttling (429, 503 with Retry-After) means Jira did nothing, and raises as usual.
        """
        session = self.client.jira._session
        try:
            with self.client.call("POST issue"):
                try:
                    response = session.post(self.client.url("issue"), data=json.dumps(body))
                except (requests.ConnectionError, requests.Timeout) as exc:
                    log.warning("%s: POST issue: %s; checking whether it landed", self.name, exc)
                    return None
                except JIRAError as exc:
                    throttled = exc.status_code == 429 or (
                        exc.status_code == 503
                        and exc.response is not None
                        and "Retry-After" in exc.response.headers
                    )
                    if (exc.status_code or 0) >= 500 and not throttled:
                        log.warning("%s: POST issue: HTTP %s; checking whether it landed",
                                    self.name, exc.status_code)  # fmt: skip
                        return None
                    raise
                return dict(response.json())
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(_create_refused(exc)) from None
            raise

    def _push_create(self, prep: Prepared, write: PlannedWrite) -> WriteResult:
        profile = self._profile_for(prep, write.entity_type, None)
        project = str(
            profile.options.get("create_project")
            or (profile.projects[0] if profile.projects else "")
        )
        if not project:
            raise _WriteFailed("no project to create in: set options.create_project")
        twin = self.find_twin(write.canonical_id, project)
        if twin is not None:
            # made by an attempt whose answer was lost: bring it to the planned values
            return self._after_create(prep, write, *twin, fields=None)
        body = {
            "fields": self._create_fields(prep, profile, write, project),
            # the id in a machine-readable place too (IssueUpdateDetails.properties)
            "properties": [{"key": PROPERTY_KEY, "value": {"id": write.canonical_id}}],
        }
        created = self._post_issue(body)
        if created is None:
            found = self._settle_twin(write.canonical_id, project)
            if found is None:
                raise _WriteFailed(
                    f"the answer to creating this issue in {project} was lost and no issue "
                    f"carries the label {marker_label(write.canonical_id)} after "
                    f"{self.twin_settle_seconds:g} s; the next run looks for it again "
                    "before creating"
                )
            return self._after_create(prep, write, *found, fields=None)
        issue_id = str(created.get("id") or "")
        if not issue_id:
            raise _WriteFailed("create answered without an issue id")
        return self._after_create(prep, write, issue_id, created.get("key"), fields={"status"})

    def _create_fields(
        self, prep: Prepared, profile: IssueProfile, write: PlannedWrite, project: str
    ) -> dict[str, Any]:
        """The ``fields`` of a create: the planned values plus pmo-sync's marker label."""
        issue_type = str(
            profile.options.get("create_issue_type")
            or (profile.options.get("issue_type_names") or ["Task"])[0]
        )
        values = write.values
        kind_spec = profile.specs.get("kind")
        if "kind" in values and kind_spec is not None and kind_spec.values:
            for remote, canonical in kind_spec.values.items():
                if canonical == values["kind"]:
                    issue_type = str(remote)
                    break
        fields: dict[str, Any] = {"project": {"key": project}, "issuetype": {"name": issue_type}}
        refs = ENTITY_CLASSES[write.entity_type].references
        for change in write.changes:
            spec = profile.specs.get(change.field)
            if change.field in ("kind", "project", "key", "status") or spec is None:
                continue  # status: a transition once the issue exists
            if change.new is None:
                continue
            if change.field in refs:
                meta = {"issuetype": {"name": issue_type, "subtask": "sub" in issue_type.lower()}}
                epic_link = self._epic_link_for(prep, change.field, meta)
                if epic_link:
                    fields[epic_link] = self.keys.key_of(change.new)
                else:
                    fields[spec.id] = self._ref_json(prep, refs[change.field], change.new)
                continue
            ctype = canonical_type(write.entity_type, change.field)
            try:
                fields[spec.id] = write_value(spec, ctype, change.new, adf=prep.adf)
            except (MappingProblem, ValueError) as exc:
                raise _WriteFailed(str(exc)) from None
        labels = fields.get(LABELS_FIELD)
        fields[LABELS_FIELD] = [
            *(labels if isinstance(labels, list) else []),
            marker_label(write.canonical_id),
        ]
        return fields

    def _after_create(
        self,
        prep: Prepared,
        write: PlannedWrite,
        issue_id: str,
        key: str | None,
        *,
        fields: set[str] | None,
    ) -> WriteResult:
        """Record the created (or found) issue, then apply what a create cannot carry.

        ``fields`` names the changes still to apply (``{"status"}`` after a fresh create: a
        status is a transition); None applies every writable one, for an issue an earlier
        attempt made (only what differs is sent).
        """
        self._created[write.canonical_id] = issue_id
        if key:
            self.keys.learn(key, issue_id)
        self.remember([issue_id])
        profile = self._profile_for(prep, write.entity_type, None)
        rest = [
            c
            for c in write.changes
            if c.field not in NOT_WRITABLE
            and (fields is None or c.field in fields)
            and not (c.field == "status" and c.new is None)
            # fields only a create writes (pull-only in the mapping) the earlier attempt wrote
            and getattr(profile.specs.get(c.field), "direction", "pull") != "pull"
        ]
        if rest:
            update = replace(write, op="update", changes=rest, external_id=issue_id)
            try:
                return self._push_update(prep, update)
            except _WriteFailed as failed:
                raise _WriteFailed(f"created {key or issue_id} but {failed}") from None
        after = self._get_issue(prep, issue_id, ["updated"])
        return WriteResult(
            write.outbox_id,
            True,
            external_id=issue_id,
            version_token=(after.get("fields") or {}).get("updated"),
        )

    # -- dependencies -----------------------------------------------------------------------
    def _push_dependency(self, prep: Prepared, write: PlannedWrite) -> WriteResult:
        """A dependency as an issue link (both ends in Jira) or a remote link (one end).

        ``predecessor``/``successor`` are Jira issue ids (or keys) of this connection, or,
        for an item in another tool, a dict ``{"url", "title"}``.
        """
        values = write.values
        pred, succ = values.get("predecessor"), values.get("successor")
        if pred is None or succ is None:
            raise _WriteFailed("a dependency needs predecessor and successor")
        link_types = list(prep.links.link_types) if prep.links else ["blocks"]
        dep_options: dict[str, Any] = {}
        for mapping in self.mappings:
            dep = mapping.entities.get(EntityType.DEPENDENCY)
            if dep is not None:
                dep_options = dep.options
                link_types = list(dep.link_types or {"Blocks": "FS"})
                break
        type_name = str(dep_options.get("push_link_type") or link_types[0])
        link_type = self._link_type(type_name)
        if isinstance(pred, dict) or isinstance(succ, dict):
            if isinstance(pred, dict) and isinstance(succ, dict):
                raise _WriteFailed("neither end of the dependency is in Jira")
            return self._push_remote_link(write, pred, succ, link_type)
        pred_id = self.keys.id_of(str(pred)) if not str(pred).isdigit() else str(pred)
        succ_id = self.keys.id_of(str(succ)) if not str(succ).isdigit() else str(succ)
        if not pred_id or not succ_id:
            raise _WriteFailed(f"issue {pred if not pred_id else succ} not found")
        existing = self._find_link(prep, pred_id, succ_id, link_type["name"])
        if existing is not None:
            return WriteResult(
                write.outbox_id,
                True,
                external_id=existing,
                version_token=f"{pred_id}>{succ_id}:{link_type['name']}",
            )
        outward_succ = (
            prep.links is not None and link_type["name"].lower() in prep.links.outward_is_successor
        )
        # The library sends inwardIssue=first, outwardIssue=second and the link then reads
        # "first <outward verb> second" (first lists it with outwardIssue: second).
        first, second = (succ_id, pred_id) if outward_succ else (pred_id, succ_id)
        try:
            with self.client.call("POST issueLink"):
                self.client.jira.create_issue_link(link_type["name"], first, second)
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(str(exc)) from None
            raise
        self.remember([pred_id, succ_id])
        link_id = self._find_link(prep, pred_id, succ_id, link_type["name"])
        return WriteResult(
            write.outbox_id,
            True,
            external_id=link_id,
            version_token=f"{pred_id}>{succ_id}:{link_type['name']}",
        )

    def _link_type(self, name: str) -> dict[str, Any]:
        raw = self.client.get_json("issueLinkType", what="GET issueLinkType")
        for link_type in (raw or {}).get("issueLinkTypes") or []:
            if str(link_type.get("name", "")).lower() == name.lower():
                return dict(link_type)
        raise ConfigError(
            f"Jira has no issue link type {name!r} on {self.client.config.url}",
            connection=self.name,
        )

    def _find_link(self, prep: Prepared, pred_id: str, succ_id: str, type_name: str) -> str | None:
        issue = self._get_issue(prep, pred_id, ["issuelinks"])
        profile = LinkProfile(
            {type_name.lower(): "FS"},
            prep.links.outward_is_successor if prep.links else frozenset(),
        )
        for record in map_links(issue, profile, prep.ctx):
            if isinstance(record, PulledRecord) and (
                record.pointers["predecessor"].external_id == pred_id
                and record.pointers["successor"].external_id == succ_id
            ):
                return record.ref.external_id
        return None

    def _push_remote_link(
        self, write: PlannedWrite, pred: Any, succ: Any, link_type: Mapping[str, Any]
    ) -> WriteResult:
        local, remote, phrase = (
            (str(succ), pred, str(link_type.get("inward") or "is blocked by"))
            if isinstance(pred, dict)
            else (str(pred), succ, str(link_type.get("outward") or "blocks"))
        )
        issue_id = local if local.isdigit() else self.keys.id_of(local)
        if not issue_id:
            raise _WriteFailed(f"issue {local} not found")
        global_id = f"pmo-sync:{write.canonical_id}"
        title = str(remote.get("title") or remote.get("url") or "")
        url = str(remote.get("url") or "")
        body: dict[str, Any] = {
            "globalId": global_id,
            "relationship": phrase,
            "object": {"url": url, "title": title},
        }
        path = f"issue/{issue_id}/remotelink"
        try:
            current = self.client.get_json(path, {"globalId": global_id}, what=f"GET {path}")
        except PmoSyncError as exc:
            if not _is_record_error(exc):
                raise
            current = None  # 404: no link with this globalId yet
        existing = current[0] if isinstance(current, list) and current else current or None
        if isinstance(existing, dict) and existing.get("id"):
            obj = existing.get("object") or {}
            if (
                existing.get("relationship") == phrase
                and obj.get("url") == url
                and obj.get("title") == title
            ):
                return WriteResult(
                    write.outbox_id,
                    True,
                    external_id=f"remote:{existing['id']}",
                    version_token=global_id,
                )
        try:
            with self.client.call(f"POST {path}"):
                response = self.client.jira._session.post(
                    self.client.url(path), data=json.dumps(body)
                )
                created = response.json() if response.content else {}
        except PmoSyncError as exc:
            if _is_record_error(exc):
                raise _WriteFailed(str(exc)) from None
            raise
        self.remember([issue_id])
        return WriteResult(
            write.outbox_id,
            True,
            external_id=f"remote:{created.get('id', '')}",
            version_token=global_id,
        )


class _WriteFailed(Exception):
    """One write cannot be applied; reported in its WriteResult, the batch goes on."""


def _is_record_error(exc: PmoSyncError) -> bool:
    """A failure of this one request (400/404/...), not of the connection."""
    from pmosync.errors import AuthError, RetriableError, SkippableRecordError

    if isinstance(exc, AuthError | RetriableError):
        return False
    return isinstance(exc, SkippableRecordError | JqlRefused)


def _create_refused(exc: PmoSyncError) -> str:
    """Jira's 400 on a create, with what to do when it is our marker label it refused."""
    text = str(exc)
    if "'labels'" in text or '"labels"' in text:
        return (
            f"{text}; pmo-sync marks each issue it creates with a label (pmo-sync-<id>) so "
            "that a retried create never duplicates an issue: add the Labels field to the "
            "create screen of this project and issue type"
        )
    return text


def _mentions_notify(exc: JIRAError) -> bool:
    text = jira_error_text(exc).lower()
    return "notif" in text or exc.status_code == 403


def _screen_json(schema_type: str | None, value: Any) -> Any:
    if isinstance(value, dict | list):
        return value
    if schema_type in ("resolution", "priority", "version", "component", "issuetype"):
        return {"name": str(value)}
    if schema_type == "option":
        return {"value": str(value)}
    if schema_type == "user":
        return {"accountId": str(value)}
    return value


def _jsonable(value: Any) -> Any:
    from datetime import date
    from decimal import Decimal

    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


__all__ = ["PROPERTY_KEY", "IssueWriter"]
