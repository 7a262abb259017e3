"""The Jira connector: wires the client, the field catalog and the mapper.

Mapping options (``entities.<type>.options`` in the team YAML) this connector reads:

work_item / raid_item
  ``default_fields`` (bool, default true): also read the structural fields the mapping does
  not name (summary, key, issuetype, project, parent, status, assignee, duedate, labels),
  read-only.
  ``cancelled_resolutions`` (list): resolutions that make a done issue ``cancelled``
  (default Won't Do, Won't Fix, Duplicate, Cancelled).
  ``transition_fields`` (dict): canonical target status (or ``"*"``) -> {field id or name:
  value}, filled into a transition's screen, e.g. ``{done: {resolution: Done}}``. A required
  screen field with no value here makes that write fail (reported, nothing written).
  ``create_project`` / ``create_issue_type``: where creates go (default: first project, first
  issue type of the mapping, else Task).
dependency
  ``link_types`` (mapping key): Jira link type name -> FS/SS/FF/SF.
  ``outward_is_successor`` (list): link types whose outward verb reads "depends on" (the
  outward issue comes first). Blocks-like types (default) make the outward side's subject
  the predecessor.
  ``classes`` (dict): link type -> logic/gating/info (default logic; Relates/Duplicate/Cloners
  info).
  ``push_link_type`` (str): link type created for a dependency between two Jira issues
  (default: the first of ``link_types``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pmosync.canonical_model import (
    EntityType,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    WriteResult,
)
from pmosync.config.connections.jira import JiraConnection
from pmosync.config.mapping import EntityMapping, FieldMapping, TeamMapping
from pmosync.connectors.base import Capabilities, Scope
from pmosync.connectors.http import HttpPolicy
from pmosync.connectors.isolation import isolated, isolated_many
from pmosync.connectors.jira.client import JiraClient
from pmosync.connectors.jira.fields import FieldCatalog
from pmosync.connectors.jira.keys import IssueKeys
from pmosync.connectors.jira.mapper import (
    DEFAULT_CANCELLED_RESOLUTIONS,
    CrossToolSpec,
    FieldSpec,
    IssueProfile,
    LinkProfile,
    MapContext,
    build_jql,
    expected_remote_types,
    jql_moment,
    jql_quote,
    map_cross_tool,
    map_issue,
    map_links,
    map_project,
    map_sprints,
    map_version,
)
from pmosync.connectors.jira.push import (
    ISSUE_ENTITIES,
    NOT_WRITABLE,
    IssueWriter,
    project_writable,
)
from pmosync.errors import ConfigError

log = logging.getLogger(__name__)

# The recent writes kept for reconcileIssues (50 per search; the client adds one small
# search per further 50, see JiraClient._search_cloud).
RECENT_WRITES = 500
CATALOG_ENTITIES = (EntityType.PROJECT, EntityType.MILESTONE, EntityType.RELEASE)
# A fix version always gives these (mapper.map_version); its mapping usually names no fields.
VERSION_FIELDS: dict[EntityType, frozenset[str]] = {
    EntityType.MILESTONE: frozenset({"name", "due", "done", "status", "project"}),
    EntityType.RELEASE: frozenset({"name", "release_date", "released", "project"}),
}
DEFAULT_FIELDS: dict[EntityType, dict[str, str]] = {
    EntityType.WORK_ITEM: {
        "name": "summary",
        "key": "key",
        "kind": "issuetype",
        "project": "project",
        "parent": "parent",
        "status": "status",
        "assignee": "assignee",
        "due": "duedate",
        "labels": "labels",
    },
    EntityType.RAID_ITEM: {
        "name": "summary",
        "kind": "issuetype",
        "project": "project",
        "owner": "assignee",
        "status": "status",
        "due": "duedate",
    },
}


@dataclass
class Prepared:
    """What one connector learned at start: deployment, fields, compiled mappings."""

    cloud: bool
    adf: bool
    catalog: FieldCatalog
    profiles: dict[str, IssueProfile]  # scope name -> profile
    links: LinkProfile | None
    iterations: bool
    ctx: MapContext
    catalog_scopes: dict[str, tuple[tuple[str, ...], frozenset[EntityType]]] = field(
        default_factory=dict
    )
    # issue fields naming items in other tools (explicit cross-tool dependencies)
    cross_tool: tuple[CrossToolSpec, ...] = ()


class JiraConnector:
    """Connector protocol over Jira Cloud (REST v3/v2) and Data Center (v2)."""

    def __init__(
        self,
        name: str,
        config: JiraConnection,
        mappings: list[TeamMapping],
        *,
        overlap_seconds: float = 300.0,
        recent_writes: Iterable[str] = (),
        policy: HttpPolicy | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.mappings = list(mappings)
        self.overlap = timedelta(seconds=overlap_seconds)
        self.client = JiraClient(name, config, policy=policy)
        self._prepared: Prepared | None = None
        # Issue ids we wrote (or the engine says were written): passed as reconcileIssues so
        # Cloud's eventually consistent search cannot hide them.
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.remember_writes(recent_writes)
        self.keys = IssueKeys(self.client)
        self._versions: dict[tuple[str, str], str] = {}  # (scope, id) -> updated yielded
        self.writer = IssueWriter(name, self.client, self.mappings, self.keys, self.remember_writes)

    # -- protocol: description -------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        readable: dict[EntityType, set[str]] = {}
        writable: dict[EntityType, set[str]] = {}
        creatable: set[EntityType] = set()
        for mapping in self.mappings:
            for entity_type, entity in mapping.entities.items():
                names = set(entity.readable(entity_type))
                if entity_type in DEFAULT_FIELDS and entity.options.get("default_fields", True):
                    names |= set(DEFAULT_FIELDS[entity_type])
                if entity_type is EntityType.WORK_ITEM:
                    names.add("schedule_mode")  # "entered" on dated issues (mapper)
                if entity_type in VERSION_FIELDS:  # what map_version reads, fields or not:
                    names |= VERSION_FIELDS[entity_type]  # never a blank milestone (#11 item 4)
                if entity_type is EntityType.DEPENDENCY:
                    names |= {"predecessor", "successor", "link_type", "dependency_class"}
                if entity_type is EntityType.PROGRAMME:  # project categories
                    names |= {"name"}
                    readable.setdefault(EntityType.PROJECT, set()).add("programme")
                    names |= {"lag_minutes", "origin", "source_link_type"}
                readable.setdefault(entity_type, set()).update(names)
                if entity_type in ISSUE_ENTITIES:
                    writable.setdefault(entity_type, set()).update(
                        entity.writable(entity_type) - NOT_WRITABLE
                    )
                    creatable.add(entity_type)
                if entity_type is EntityType.DEPENDENCY:
                    creatable.add(entity_type)
                if entity_type is EntityType.PROJECT:  # project properties, a status issue
                    writable.setdefault(entity_type, set()).update(project_writable(entity))
        return Capabilities(
            readable={k: frozenset(v) for k, v in readable.items()},
            writable={k: frozenset(v) for k, v in writable.items()},
            can_create=frozenset(creatable),
            incremental=True,
        )

    def scopes(self) -> list[Scope]:
        out: list[Scope] = []
        for index, mapping in enumerate(self.mappings):
            team = mapping.team or f"team{index}"
            if any(t in mapping.entities for t in CATALOG_ENTITIES):
                out.append(Scope(f"{team}:projects", EntityType.PROJECT))
            for entity_type in ISSUE_ENTITIES:
                if entity_type in mapping.entities:
                    out.append(Scope(f"{team}:{entity_type.value}", entity_type))
        return out

    def api_calls(self) -> int:
        return self.client.api_calls()

    def waits(self) -> dict[str, float]:
        return dict(self.client.adapter.stats.waited)

    def close(self) -> None:
        self.client.close()

    def remember_writes(self, issue_ids: Iterable[str]) -> None:
        """Issue ids recently written (by us or an earlier run) for read-after-write."""
        for issue_id in issue_ids:
            self._recent.pop(str(issue_id), None)
            self._recent[str(issue_id)] = None
        while len(self._recent) > RECENT_WRITES:
            self._recent.popitem(last=False)

    # -- preparation: server, user zone, fields, compiled mappings --------------------------
    def prepare(self) -> Prepared:
        """Detect the deployment and resolve every mapped field; cached per connector.

        Raises:
            ConfigError: a mapped field vanished or changed type (fail closed).
            AuthError: the credentials were refused.
        """
        if self._prepared is not None:
            return self._prepared
        info = self.client.server_info()
        self.client.myself()
        catalog = FieldCatalog(self.client.fields(), connection=self.name, instance=self.config.url)
        profiles: dict[str, IssueProfile] = {}
        catalog_scopes: dict[str, tuple[tuple[str, ...], frozenset[EntityType]]] = {}
        link_types: dict[str, str] = {}
        outward_succ: set[str] = set()
        classes: dict[str, str] = {}
        cross_tool: list[CrossToolSpec] = []
        iterations = False
        for index, mapping in enumerate(self.mappings):
            team = mapping.team or f"team{index}"
            raid = mapping.entities.get(EntityType.RAID_ITEM)
            raid_names = list(raid.issue_types or []) if raid else []
            raid_types = frozenset(t.lower() for t in raid_names)
            all_projects: list[str] = []
            for entity_type in ISSUE_ENTITIES:
                entity = mapping.entities.get(entity_type)
                if entity is None:
                    continue
                profile = self._profile(
                    team, mapping, entity_type, entity, catalog, raid_types, raid_names
                )
                profiles[f"{team}:{entity_type.value}"] = profile
                all_projects.extend(p for p in profile.projects if p not in all_projects)
            wanted = frozenset(t for t in CATALOG_ENTITIES if t in mapping.entities)
            if wanted:
                projects = list(all_projects)
                for entity_type in wanted:
                    projects.extend(
                        p for p in mapping.entities[entity_type].projects or [] if p not in projects
                    )
                catalog_scopes[f"{team}:projects"] = (tuple(projects), wanted)
            dep = mapping.entities.get(EntityType.DEPENDENCY)
            if dep is not None:
                for type_name, kind in (dep.link_types or {"Blocks": "FS"}).items():
                    # a class name (logic/gating/info) classifies a Finish-to-Start link
                    if kind in ("logic", "gating", "info"):
                        classes[type_name.lower()] = kind
                        kind = "FS"
                    link_types[type_name.lower()] = kind
                for index, xref in enumerate(dep.cross_tool):
                    where = f"{mapping.source} › entities.dependency.cross_tool[{index}]"
                    found = catalog.resolve(xref.field, where=where)
                    cross_tool.append(
                        CrossToolSpec(
                            found.id,
                            found.name,
                            xref.names,
                            xref.link_type,
                            xref.dependency_class,
                        )
                    )
                outward_succ |= {t.lower() for t in dep.options.get("outward_is_successor", [])}
                classes.update(
                    {str(k).lower(): str(v) for k, v in (dep.options.get("classes") or {}).items()}
                )
            iterations = iterations or EntityType.ITERATION in mapping.entities
        sprint = catalog.sprint_field()
        epic = catalog.epic_link_field()
        ctx = MapContext(
            connection=self.name,
            cloud=info.is_cloud,
            epic_link_field=epic.id if epic else None,
            sprint_field=sprint.id if (sprint and iterations) else None,
            resolve_key=self.keys.id_of,
            programmes=any(EntityType.PROGRAMME in m.entities for m in self.mappings),
        )
        self._prepared = Prepared(
            cloud=info.is_cloud,
            adf=info.api_version == "3",
            catalog=catalog,
            profiles=profiles,
            links=LinkProfile(link_types, frozenset(outward_succ), classes) if link_types else None,
            iterations=iterations,
            ctx=ctx,
            catalog_scopes=catalog_scopes,
            cross_tool=tuple(cross_tool),
        )
        return self._prepared

    def _profile(
        self,
        team: str,
        mapping: TeamMapping,
        entity_type: EntityType,
        entity: EntityMapping,
        catalog: FieldCatalog,
        raid_types: frozenset[str],
        raid_names: list[str],
    ) -> IssueProfile:
        source = mapping.source or f"team {team}"
        effective: dict[str, tuple[FieldMapping, bool]] = {}
        if entity.options.get("default_fields", True):
            for canonical, remote in DEFAULT_FIELDS[entity_type].items():
                effective[canonical] = (FieldMapping(field=remote, direction="pull"), False)
        for canonical, fm in entity.fields.items():
            effective[canonical] = (fm, True)
        specs: dict[str, FieldSpec] = {}
        for canonical, (fm, explicit) in effective.items():
            where = f"{source} › entities.{entity_type.value}.fields.{canonical}.field"
            if not explicit:
                found = catalog.find(fm.field)
                if len(found) != 1:
                    continue  # a default this instance does not have (e.g. parent on old DC)
                jf = found[0]
            else:
                jf = catalog.resolve(
                    fm.field, where=where, expect=expected_remote_types(entity_type, canonical)
                )
            direction = fm.direction or entity.direction(entity_type, canonical)
            specs[canonical] = FieldSpec(canonical, jf, fm.values, direction, where)
        if not entity.projects and not entity.jql:
            raise ConfigError(
                f"{source} › entities.{entity_type.value}: give projects or jql (Jira Cloud "
                "refuses unbounded searches)",
                connection=self.name,
            )
        issue_types = frozenset(t.lower() for t in entity.issue_types or [])
        cancelled = entity.options.get("cancelled_resolutions")
        return IssueProfile(
            team=team,
            entity_type=entity_type,
            specs=specs,
            projects=tuple(entity.projects or ()),
            issue_types=issue_types,
            exclude_types=raid_types if entity_type is EntityType.WORK_ITEM else frozenset(),
            jql=entity.jql,
            cancelled_resolutions=(
                frozenset(str(c).lower() for c in cancelled)
                if cancelled is not None
                else DEFAULT_CANCELLED_RESOLUTIONS
            ),
            options={
                **entity.options,
                "issue_type_names": list(entity.issue_types or []),
                "exclude_type_names": raid_names if entity_type is EntityType.WORK_ITEM else [],
            },
        )

    def _with_epic_keys(
        self, prep: Prepared, issues: Iterator[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Issues whose Epic Link (DC: a key) names an epic not seen yet are held back to the
        end of the listing, when most epics have been seen; the rest are looked up in one
        search per 100 keys instead of one request per issue."""
        epic = prep.ctx.epic_link_field
        if not epic:
            yield from issues
            return
        deferred: list[dict[str, Any]] = []
        for issue in issues:
            self.keys.learn(issue.get("key"), issue.get("id"))
            value = (issue.get("fields") or {}).get(epic)
            if isinstance(value, str) and not self.keys.known(value):
                deferred.append(issue)
                continue
            yield issue
        self.keys.prefetch(str((i.get("fields") or {}).get(epic)) for i in deferred)
        yield from deferred

    def _search_fields(self, prep: Prepared, profile: IssueProfile) -> list[str]:
        wanted = {"updated", "status", "resolution", "issuetype", "project", "summary"}
        wanted |= {s.id for s in profile.specs.values() if s.id not in ("key", "id")}
        if prep.links is not None:
            wanted.add("issuelinks")
        wanted |= {spec.field_id for spec in prep.cross_tool}
        if prep.ctx.sprint_field:
            wanted.add(prep.ctx.sprint_field)
        if prep.ctx.epic_link_field and "parent" in profile.specs:
            wanted.add(prep.ctx.epic_link_field)
        return sorted(wanted)

    # -- protocol: pull ---------------------------------------------------------------------
    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        prep = self.prepare()
        if scope.name in prep.catalog_scopes:
            yield from self._pull_catalog(prep, scope.name)
            return
        profile = prep.profiles.get(scope.name)
        if profile is None:
            raise ConfigError(f"unknown scope {scope.name!r}", connection=self.name)
        zone = self.client.time_zone()
        since_text = jql_moment(since - self.overlap, zone) if since is not None else None
        until_text = jql_moment(until, zone, round_up=True) if until is not None else None
        jql = build_jql(profile, since=since_text, until=until_text)
        if profile.exclude_types and not profile.issue_types:
            original = profile.options.get("exclude_type_names") or sorted(profile.exclude_types)
            names = ", ".join(jql_quote(str(t)) for t in original)
            jql = jql.replace(" ORDER BY", f" AND issuetype not in ({names}) ORDER BY", 1)
        incremental = since is not None
        seen: set[tuple[str, str]] = set()
        emitted: set[tuple[EntityType, str]] = set()
        reconcile = list(self._recent) if prep.cloud else []
        issues = self.client.search(
            jql, fields=self._search_fields(prep, profile), reconcile=reconcile
        )
        for issue in self._with_epic_keys(prep, issues):
            issue_id = str(issue.get("id") or "")
            fields = issue.get("fields") or {}
            updated = str(fields.get("updated") or "")
            self.keys.learn(issue.get("key"), issue_id)
            if not profile.accepts(((fields.get("issuetype") or {}) or {}).get("name")):
                continue
            version = (issue_id, updated)
            if version in seen:
                continue
            seen.add(version)
            if incremental and self._versions.get((scope.name, issue_id)) == updated:
                continue  # already yielded by an earlier pull of this connector (overlap)
            entity_type = profile.entity_type
            mapped = isolated_many(
                self.name, entity_type, issue_id, map_issue, issue, profile, prep.ctx
            )
            for item in mapped:
                if isinstance(item, PulledRecord) and item.ref.entity_type is EntityType.PERSON:
                    key = (EntityType.PERSON, item.ref.external_id)
                    if key in emitted:
                        continue
                    emitted.add(key)
                yield item
            if prep.links is not None:
                for item in isolated_many(
                    self.name,
                    EntityType.DEPENDENCY,
                    issue_id,
                    map_links,
                    issue,
                    prep.links,
                    prep.ctx,
                ):
                    key = (
                        EntityType.DEPENDENCY,
                        item.external_id if isinstance(item, Quarantined) else item.ref.external_id,
                    )
                    if key not in emitted:
                        emitted.add(key)
                        yield item
            for record in isolated_many(
                self.name,
                EntityType.DEPENDENCY,
                issue_id,
                map_cross_tool,
                issue,
                prep.cross_tool,
                prep.ctx,
            ):
                rid = (
                    record.external_id
                    if isinstance(record, Quarantined)
                    else record.ref.external_id
                )
                if (EntityType.DEPENDENCY, rid) not in emitted:
                    emitted.add((EntityType.DEPENDENCY, rid))
                    yield record
            if prep.ctx.sprint_field:
                for item in isolated_many(
                    self.name, EntityType.ITERATION, issue_id, map_sprints, issue, prep.ctx
                ):
                    key = (
                        EntityType.ITERATION,
                        item.external_id if isinstance(item, Quarantined) else item.ref.external_id,
                    )
                    if key not in emitted:
                        emitted.add(key)
                        yield item
            self._versions[(scope.name, issue_id)] = updated

    def _pull_catalog(self, prep: Prepared, scope: str) -> Iterator[PulledRecord | Quarantined]:
        """Projects and their versions: small, no change feed, read whole every run."""
        keys, wanted = prep.catalog_scopes[scope]
        projects = self.client.get_json("project", what="GET project")
        by_key = {str(p.get("key")): p for p in projects if isinstance(p, dict)}
        programmes: set[str] = set()  # a category several projects share is one programme
        for key in keys:
            project = by_key.get(key)
            if project is None:
                raise ConfigError(
                    f"Jira project {key} is not visible to the API user on {self.config.url}",
                    connection=self.name,
                )
            if EntityType.PROJECT in wanted:
                for item in isolated_many(
                    self.name,
                    EntityType.PROJECT,
                    str(project.get("id") or key),
                    map_project,
                    project,
                    prep.ctx,
                ):
                    if (
                        isinstance(item, PulledRecord)
                        and item.ref.entity_type is EntityType.PROGRAMME
                    ):
                        if item.ref.external_id in programmes:
                            continue  # listed once per pull, or it would look ambiguous
                        programmes.add(item.ref.external_id)
                    yield item
            for entity_type in (EntityType.MILESTONE, EntityType.RELEASE):
                if entity_type not in wanted:
                    continue
                versions = self.client.get_json(
                    f"project/{key}/versions", what=f"GET project/{key}/versions"
                )
                pid = str(project.get("id") or "")
                for version in versions or []:
                    yield isolated(
                        self.name,
                        entity_type,
                        str(version.get("id") or "") if isinstance(version, dict) else "?",
                        map_version,
                        version,
                        pid,
                        entity_type,
                        prep.ctx,
                    )

    # -- protocol: push ---------------------------------------------------------------------
    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        """Apply writes, one result each, in order (see :mod:`.push`).

        Raises:
            ConfigError: a mapped field drifted (nothing is written).
            AuthError, RetriableError: the connection failed; the remaining writes wait.
        """
        return self.writer.push(self.prepare(), writes)


__all__ = ["JiraConnector", "Prepared"]
