"""Pure functions between Jira JSON and canonical values (no I/O, no client).

Pull: an issue bean becomes a WorkItem or RaidItem record, plus the Person, Dependency and
Iteration records its payload carries; a project becomes a Project; a version a Milestone or
Release. Push: a canonical value becomes the JSON a Jira edit takes. A value that cannot be
mapped raises :class:`MappingProblem` naming the field; the connector turns it into a
``Quarantined`` record for that issue and goes on.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from pmosync.canonical_model import (
    ENTITY_CLASSES,
    EntityType,
    ExternalRef,
    PulledRecord,
    Quarantined,
    RemotePointer,
    validate_fields,
)
from pmosync.canonical_model.entities import DependencyClass, LinkType, RaidKind, WorkItemKind
from pmosync.canonical_model.provenance import named_pointer
from pmosync.connectors.jira.adf import adf_to_text, text_to_adf
from pmosync.connectors.jira.fields import JiraField
from pmosync.connectors.jira.marker import LABELS_FIELD, without_markers

# statusCategory.key -> canonical status, when the mapping's ``values`` does not say.
DEFAULT_STATUS = {"new": "not_started", "indeterminate": "active", "done": "done"}
# canonical status -> statusCategory.key we transition to, when ``values`` does not say.
DEFAULT_TARGET_CATEGORY = {
    "not_started": "new",
    "active": "indeterminate",
    "done": "done",
    "cancelled": "done",
}
STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done", "undefined"})
DEFAULT_CANCELLED_RESOLUTIONS = frozenset({"won't do", "won't fix", "duplicate", "cancelled"})
INFORMATIONAL_LINKS = frozenset({"relates", "duplicate", "cloners"})


class MappingProblem(ValueError):
    """One field of one record cannot be mapped."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(f"field {field_name}: {message}")


# -- canonical field types -----------------------------------------------------------------


def canonical_type(entity_type: EntityType, name: str) -> str:
    """date | datetime | decimal | int | bool | list | enum | ref | str."""
    cls = ENTITY_CLASSES[entity_type]
    if name in cls.references:
        return "ref"
    annotation = cls.model_fields[name].annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        base = args[0] if args else str
    if typing.get_origin(base) is list:
        return "list"
    if isinstance(base, type):
        if issubclass(base, enum.Enum):
            return "enum"
        if issubclass(base, bool):
            return "bool"
        if issubclass(base, datetime):
            return "datetime"
        if issubclass(base, date):
            return "date"
        if issubclass(base, Decimal):
            return "decimal"
        if issubclass(base, int):
            return "int"
    return "str"


_STRINGISH = frozenset(
    {
        "string",
        "option",
        "any",
        "issuetype",
        "priority",
        "project",
        "status",
        "resolution",
        "user",
        "version",
        "component",
        "securitylevel",
        "option-with-child",
    }
)
# Remote schema types able to carry each canonical type; anything else is type drift.
EXPECTED_TYPES: dict[str, frozenset[str] | None] = {
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime"}),
    "decimal": frozenset({"number"}),
    "int": frozenset({"number", "option", "string"}),
    "bool": None,
    "list": frozenset({"array"}),
    "enum": frozenset({"option", "string", "status", "issuetype", "priority", "resolution", "any"}),
    "str": _STRINGISH,
    "ref": None,
}


def expected_remote_types(entity_type: EntityType, name: str) -> frozenset[str] | None:
    if name == "assignee" or name in ("owner", "manager"):
        return frozenset({"user"})
    return EXPECTED_TYPES[canonical_type(entity_type, name)]


# -- compiled mapping ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field carried by one resolved Jira field."""

    canonical: str
    field: JiraField
    values: Mapping[str, Any] | None = None
    direction: str = "both"
    where: str = ""

    @property
    def id(self) -> str:
        return self.field.id


@dataclass(frozen=True)
class IssueProfile:
    """How one team maps issues onto one canonical entity type (WorkItem or RaidItem)."""

    team: str
    entity_type: EntityType
    specs: Mapping[str, FieldSpec]
    projects: tuple[str, ...] = ()
    issue_types: frozenset[str] = frozenset()  # lower-case names; empty = any
    exclude_types: frozenset[str] = frozenset()  # lower-case names claimed by another profile
    jql: str | None = None
    cancelled_resolutions: frozenset[str] = DEFAULT_CANCELLED_RESOLUTIONS
    options: Mapping[str, Any] = field(default_factory=dict)

    def accepts(self, issue_type: str | None) -> bool:
        name = (issue_type or "").lower()
        if self.issue_types:
            return name in self.issue_types
        return name not in self.exclude_types


@dataclass(frozen=True)
class LinkProfile:
    """Which link types are dependencies, and how each reads."""

    link_types: Mapping[str, str]  # lower-case link type name -> FS/SS/FF/SF
    # link types whose outward verb makes the *outward* issue the predecessor
    # ("A depends on B": B comes first); for Blocks the issue holding the link is.
    outward_is_successor: frozenset[str] = frozenset()
    classes: Mapping[str, str] = field(default_factory=dict)  # name -> logic/gating/info

    def accepts(self, name: str) -> bool:
        return name.lower() in self.link_types


@dataclass(frozen=True)
class MapContext:
    connection: str
    cloud: bool
    epic_link_field: str | None = None
    sprint_field: str | None = None
    # DC's Epic Link holds a key; pointers need the stable id.
    resolve_key: Callable[[str], str | None] = lambda key: None
    # the mapping reads programmes: a project's category is its programme
    programmes: bool = False


# -- scalar readers --------------------------------------------------------------------------


def parse_jira_datetime(value: str) -> datetime:
    """``2025-01-01T10:00:00.000+0000`` (and ISO variants) as an aware datetime."""
    text = value.strip()
    match = re.fullmatch(r"(.*[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-]\d\d)(\d\d)", text)
    if match:
        text = f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_jira_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    # A datetime field read as a date keeps the wall date it was entered with.
    return parse_jira_datetime(text).date()


def option_text(value: Any) -> str | None:
    """The display text of an option, user, version, status or plain value."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("value", "name", "displayName", "key"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        if isinstance(value, dict):
            value = option_text(value)
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise MappingProblem(field_name, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise MappingProblem(field_name, f"{value!r} is not a number")
    # Jira returns numbers as JSON floats (5.0); other tools say 5. One canonical form, so
    # the same value never looks like a change (an echo).
    try:
        if number == number.to_integral_value():
            return number.quantize(Decimal(1))
        return number.normalize()
    except InvalidOperation:  # more digits than decimal's 28-digit context holds (>= 1e28)
        raise MappingProblem(field_name, f"{value!r} is out of range (too many digits)") from None


def _int(value: Any, field_name: str) -> int:
    text = option_text(value) if isinstance(value, dict) else value
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text)
    # Options such as "3 - Medium" carry their score up front.
    match = re.match(r"\s*(\d+)", str(text))
    if not match:
        raise MappingProblem(field_name, f"{text!r} has no number")
    return int(match.group(1))


def map_option(values: Mapping[str, Any], raw: Any, field_name: str) -> Any:
    text = option_text(raw)
    if text is None:
        return None
    if text in values:
        return values[text]
    folded = {str(k).lower(): v for k, v in values.items()}
    if text.lower() in folded:
        return folded[text.lower()]
    raise MappingProblem(
        field_name, f"unknown option {text!r} (mapped: {', '.join(map(str, values))})"
    )


def read_status(
    status: Any,
    resolution: Any,
    values: Mapping[str, Any] | None,
    cancelled_resolutions: frozenset[str],
) -> str | None:
    """Canonical status from a status object: by status name, then statusCategory.key.

    ``values`` may key on status names ("In Review": active) or category keys ("done": done);
    without an entry, the category decides (new/indeterminate/done), and a done issue whose
    resolution is one of ``cancelled_resolutions`` is cancelled.
    """
    if status is None:
        return None
    name = option_text(status) or ""
    category = (
        (status.get("statusCategory") or {}).get("key") if isinstance(status, dict) else None
    ) or ""
    folded = {str(k).lower(): v for k, v in (values or {}).items()}
    if name.lower() in folded:
        return str(folded[name.lower()])
    resolved = (option_text(resolution) or "").lower()
    if category == "done" and resolved and resolved in cancelled_resolutions:
        return "cancelled"
    if category.lower() in folded:
        return str(folded[category.lower()])
    if category in DEFAULT_STATUS:
        return DEFAULT_STATUS[category]
    raise MappingProblem("status", f"status {name!r} has no category Jira reports ({category!r})")


def read_kind(
    entity_type: EntityType, issuetype: Any, values: Mapping[str, Any] | None
) -> str | None:
    name = option_text(issuetype)
    if name is None:
        return None
    if values:
        return map_option(values, issuetype, "issuetype")
    lowered = name.lower().replace("-", "").replace(" ", "")
    allowed = RaidKind if entity_type is EntityType.RAID_ITEM else WorkItemKind
    for kind in allowed:
        if kind.value == lowered:
            return kind.value
    if (
        entity_type is EntityType.WORK_ITEM
        and isinstance(issuetype, dict)
        and issuetype.get("subtask")
    ):
        return WorkItemKind.SUBTASK.value
    return None


def read_value(spec: FieldSpec, raw: Any, ctype: str) -> Any:
    """One remote value as its canonical value (ref fields are handled by the caller)."""
    name = spec.field.id
    if raw is None or raw == "" or raw == []:
        return [] if ctype == "list" else None
    if spec.values is not None and ctype != "list":
        return map_option(spec.values, raw, name)
    if ctype == "date":
        try:
            return parse_jira_date(raw)
        except (ValueError, TypeError):
            raise MappingProblem(name, f"{raw!r} is not a date") from None
    if ctype == "datetime":
        try:
            return parse_jira_datetime(str(raw))
        except (ValueError, TypeError):
            raise MappingProblem(name, f"{raw!r} is not a date-time") from None
    if ctype == "decimal":
        return _decimal(raw, name)
    if ctype == "int":
        return _int(raw, name)
    if ctype == "bool":
        if isinstance(raw, bool):
            return raw
        text = (option_text(raw) or "").strip().lower()
        if text in ("yes", "true", "y", "1"):
            return True
        if text in ("no", "false", "n", "0"):
            return False
        raise MappingProblem(name, f"{raw!r} is not yes/no")
    if ctype == "list":
        items = raw if isinstance(raw, list) else [raw]
        if name == LABELS_FIELD:
            items = without_markers(items)  # pmo-sync's own create marker is not data
        out = [option_text(i) for i in items]
        if spec.values is not None:
            out = [map_option(spec.values, i, name) for i in out]
        return [i for i in out if i is not None]
    if spec.field.rich_text or isinstance(raw, dict) and raw.get("type") == "doc":
        try:
            return adf_to_text(raw)
        except ValueError as exc:
            raise MappingProblem(name, str(exc)) from None
    return option_text(raw)


# -- pointers and people ---------------------------------------------------------------------


def user_id(user: Any, cloud: bool) -> str | None:
    """Stable id of a user: accountId on Cloud, key (or name) on Data Center."""
    if not isinstance(user, dict):
        return None
    if cloud:
        return user.get("accountId") or None
    # DC edits name users by ``name``, so that is the id writes can use back.
    return user.get("name") or user.get("key") or None


def person_record(connection: str, user: dict[str, Any], cloud: bool) -> PulledRecord | None:
    uid = user_id(user, cloud)
    if uid is None:
        return None
    values = {
        "name": user.get("displayName") or user.get("name"),
        # Cloud hides e-mail unless the user made it public; absent is normal, not an error.
        "email": user.get("emailAddress") or None,
        "account_id": uid,
    }
    return PulledRecord(
        ref=ExternalRef(
            connection,
            EntityType.PERSON,
            uid,
            external_key=(user.get("key") or None) if not cloud else None,
        ),
        values=validate_fields(EntityType.PERSON, values),
    )


def _pointer(
    spec: FieldSpec, target: EntityType, raw: Any, ctx: MapContext
) -> tuple[RemotePointer | None, dict[str, Any] | None]:
    """(pointer, user payload to emit as a Person) for a reference field's raw value."""
    if raw is None or raw == "":
        return None, None
    if target is EntityType.PERSON:
        uid = user_id(raw, ctx.cloud)
        if uid is None:
            raise MappingProblem(spec.field.id, "user without accountId/key")
        return RemotePointer(EntityType.PERSON, uid), raw
    if isinstance(raw, dict):
        ext = raw.get("id")
        if ext is None and raw.get("key"):
            ext = ctx.resolve_key(str(raw["key"]))
        if ext is None:
            raise MappingProblem(spec.field.id, f"{raw!r} has no id")
        return RemotePointer(target, str(ext)), None
    # Epic Link (DC) holds an issue key.
    resolved = ctx.resolve_key(str(raw))
    if resolved is None:
        raise MappingProblem(spec.field.id, f"issue {raw!r} not found")
    return RemotePointer(target, resolved), None


# -- issues ----------------------------------------------------------------------------------


def issue_label(issue: Mapping[str, Any]) -> str:
    return str(issue.get("key") or issue.get("id") or "?")


def mark_entered(entity_type: EntityType, values: dict[str, Any]) -> None:
    """A work item with a start or due date has dates a person typed in: schedule mode
    "entered". Jira has no durations; the analysis measures them on the portfolio calendar."""
    if entity_type is EntityType.WORK_ITEM and (values.get("start") or values.get("due")):
        values.setdefault("schedule_mode", "entered")


def map_issue(
    issue: Mapping[str, Any], profile: IssueProfile, ctx: MapContext
) -> list[PulledRecord | Quarantined]:
    """One issue as its main record plus the Person records of its people fields.

    A field that cannot be mapped quarantines the issue (naming key and field); the rest of
    the run goes on.
    """
    entity_type = profile.entity_type
    issue_id = str(issue.get("id") or "")
    fields: Mapping[str, Any] = issue.get("fields") or {}
    label = issue_label(issue)
    try:
        if not issue_id:
            raise MappingProblem("id", "issue without id")
        values: dict[str, Any] = {}
        pointers: dict[str, RemotePointer] = {}
        people: list[dict[str, Any]] = []
        refs = ENTITY_CLASSES[entity_type].references
        for canonical, spec in profile.specs.items():
            if spec.direction == "push":
                continue
            raw = issue.get(spec.id) if spec.id in ("key", "id") else fields.get(spec.id)
            ctype = canonical_type(entity_type, canonical)
            if canonical in refs:
                if canonical == "parent" and raw is None and ctx.epic_link_field:
                    raw = fields.get(ctx.epic_link_field)
                pointer, person = _pointer(spec, refs[canonical], raw, ctx)
                if pointer is not None:
                    pointers[canonical] = pointer
                if person is not None:
                    people.append(person)
                continue
            if canonical == "status" and spec.id == "status":
                values[canonical] = read_status(
                    raw, fields.get("resolution"), spec.values, profile.cancelled_resolutions
                )
            elif canonical == "kind" and spec.id == "issuetype":
                values[canonical] = read_kind(entity_type, raw, spec.values)
            else:
                values[canonical] = read_value(spec, raw, ctype)
        mark_entered(entity_type, values)
        try:
            checked = validate_fields(entity_type, values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "?"
            remote = profile.specs[name].id if name in profile.specs else name
            raise MappingProblem(remote, f"{err['msg']} ({values.get(name)!r})") from None
        updated = fields.get("updated")
        modified = parse_jira_datetime(updated) if isinstance(updated, str) else None
    except MappingProblem as problem:
        return [Quarantined(ctx.connection, entity_type, issue_id or label, f"{label}: {problem}")]
    except (ValueError, TypeError) as exc:
        return [Quarantined(ctx.connection, entity_type, issue_id or label, f"{label}: {exc}")]
    record = PulledRecord(
        ref=ExternalRef(
            ctx.connection,
            entity_type,
            issue_id,
            external_key=issue.get("key"),
            version_token=updated if isinstance(updated, str) else None,
            source_modified_at=modified,
        ),
        values=checked,
        pointers=pointers,
    )
    out: list[PulledRecord | Quarantined] = [record]
    for user in people:
        person_rec = person_record(ctx.connection, user, ctx.cloud)
        if person_rec is not None:
            out.append(person_rec)
    return out


def map_links(
    issue: Mapping[str, Any], links: LinkProfile, ctx: MapContext
) -> list[PulledRecord | Quarantined]:
    """Configured issue links as Dependencies, stored predecessor -> successor.

    In issue A's payload, ``outwardIssue: B`` reads "A <outward verb> B" and ``inwardIssue:
    B`` reads "B <outward verb> A". For Blocks ("A blocks B") the issue on the outward verb's
    subject side is the predecessor. The link id is the external id, so the same link seen
    from both issues is one record.
    """
    out: list[PulledRecord | Quarantined] = []
    this = str(issue.get("id") or "")
    for link in (issue.get("fields") or {}).get("issuelinks") or []:
        if not isinstance(link, dict):
            continue
        type_name = str((link.get("type") or {}).get("name") or "")
        if not links.accepts(type_name):
            continue
        link_id = str(link.get("id") or "")
        try:
            if "outwardIssue" in link:
                subject, obj = this, str((link["outwardIssue"] or {}).get("id") or "")
            elif "inwardIssue" in link:
                subject, obj = str((link["inwardIssue"] or {}).get("id") or ""), this
            else:
                raise MappingProblem("issuelinks", f"link {link_id} has no other issue")
            if not (link_id and subject and obj):
                raise MappingProblem("issuelinks", f"link {link_id or '?'} lacks ids")
            lowered = type_name.lower()
            if lowered in links.outward_is_successor:
                predecessor, successor = obj, subject
            else:
                predecessor, successor = subject, obj
            link_type = links.link_types[lowered]
            if link_type not in {t.value for t in LinkType}:
                raise MappingProblem("issuelinks", f"link type maps to {link_type!r}")
            dep_class = links.classes.get(lowered) or (
                DependencyClass.INFO.value
                if lowered in INFORMATIONAL_LINKS
                else DependencyClass.LOGIC.value
            )
            values = validate_fields(
                EntityType.DEPENDENCY,
                {
                    "link_type": link_type,
                    "lag_minutes": 0,
                    "dependency_class": dep_class,
                    "origin": "jira_issue_link",
                    "source_link_type": type_name,
                },
            )
        except (MappingProblem, ValidationError) as problem:
            out.append(
                Quarantined(
                    ctx.connection,
                    EntityType.DEPENDENCY,
                    link_id or f"{this}:?",
                    f"{issue_label(issue)}: {problem}",
                )
            )
            continue
        out.append(
            PulledRecord(
                ref=ExternalRef(
                    ctx.connection,
                    EntityType.DEPENDENCY,
                    link_id,
                    external_key=type_name,
                    version_token=f"{predecessor}>{successor}:{type_name}",
                ),
                values=values,
                pointers={
                    "predecessor": RemotePointer(EntityType.WORK_ITEM, predecessor),
                    "successor": RemotePointer(EntityType.WORK_ITEM, successor),
                },
            )
        )
    return out


@dataclass(frozen=True)
class CrossToolSpec:
    """An issue field naming items in other tools (see config CrossToolField)."""

    field_id: str
    field_name: str
    names: str  # "predecessor" or "successor": what the named item is
    link_type: str
    dependency_class: str


def _named_items(raw: Any) -> list[str]:
    """Item names held by a text, option or labels field; several split on commas/newlines."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        text = option_text(item)
        if text:
            out.extend(p.strip() for p in re.split(r"[,\n;]", text) if p.strip())
    return out


def map_cross_tool(
    issue: Mapping[str, Any], specs: Sequence[CrossToolSpec], ctx: MapContext
) -> list[PulledRecord]:
    """Dependencies on items in other tools named in issue fields (resolved by the sync).

    The external id is the issue, the field and the name's position, so editing the name
    moves the same dependency and re-reading the issue never duplicates it.
    """
    out: list[PulledRecord] = []
    this = str(issue.get("id") or "")
    fields = issue.get("fields") or {}
    for spec in specs:
        raw = fields.get(spec.field_id)
        if spec.field_id == LABELS_FIELD and isinstance(raw, list):
            raw = without_markers(raw)
        for index, name in enumerate(_named_items(raw)):
            here = RemotePointer(EntityType.WORK_ITEM, this)
            there = named_pointer(EntityType.WORK_ITEM, name)
            pred, succ = (there, here) if spec.names == "predecessor" else (here, there)
            values = validate_fields(
                EntityType.DEPENDENCY,
                {
                    "link_type": spec.link_type,
                    "lag_minutes": 0,
                    "dependency_class": spec.dependency_class,
                    "origin": "mapping",
                    "source_link_type": spec.field_name,
                },
            )
            out.append(
                PulledRecord(
                    ref=ExternalRef(
                        ctx.connection,
                        EntityType.DEPENDENCY,
                        f"x:{this}:{spec.field_id}:{index}",
                        external_key=name,
                        version_token=f"{pred.external_id}>{succ.external_id}",
                    ),
                    values=values,
                    pointers={"predecessor": pred, "successor": succ},
                )
            )
    return out


_LEGACY_SPRINT = re.compile(r"(\w+)=([^,\]]*)")


def _sprint_objects(raw: Any) -> list[dict[str, Any]]:
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, str) and "[" in item:
            # Older DC returns "com.atlassian.greenhopper.service.sprint.Sprint@1a[id=1,...]".
            fields = dict(_LEGACY_SPRINT.findall(item.split("[", 1)[1]))
            out.append({k: (None if v == "<null>" else v) for k, v in fields.items()})
    return out


def map_sprints(issue: Mapping[str, Any], ctx: MapContext) -> list[PulledRecord | Quarantined]:
    """Sprints named in an issue's Sprint field, as Iterations."""
    if not ctx.sprint_field:
        return []
    raw = (issue.get("fields") or {}).get(ctx.sprint_field)
    if not raw:
        return []
    out: list[PulledRecord | Quarantined] = []
    for sprint in _sprint_objects(raw):
        sid = str(sprint.get("id") or "")
        try:
            if not sid:
                raise MappingProblem(ctx.sprint_field, "sprint without id")
            values = {
                "name": sprint.get("name"),
                "state": (str(sprint["state"]).lower() if sprint.get("state") else None),
                "start": _opt_date(sprint.get("startDate"), ctx.sprint_field),
                "end": _opt_date(sprint.get("endDate"), ctx.sprint_field),
            }
            checked = validate_fields(EntityType.ITERATION, values)
        except (MappingProblem, ValidationError) as problem:
            out.append(
                Quarantined(
                    ctx.connection,
                    EntityType.ITERATION,
                    sid or "?",
                    f"{issue_label(issue)}: {problem}",
                )
            )
            continue
        out.append(
            PulledRecord(
                ref=ExternalRef(
                    ctx.connection,
                    EntityType.ITERATION,
                    sid,
                    version_token=_token(checked),
                ),
                values=checked,
            )
        )
    return out


def _opt_date(value: Any, field_name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return parse_jira_date(value)
    except (ValueError, TypeError):
        raise MappingProblem(field_name, f"{value!r} is not a date") from None


def _token(values: Mapping[str, Any]) -> str:
    from pmosync.canonical_model import content_hash

    return content_hash(dict(values))[:16]


# -- projects and versions -------------------------------------------------------------------


def category_programme(connection: str, category: Mapping[str, Any]) -> PulledRecord:
    """A Jira project category as a Programme (its name is the programme's name)."""
    values = validate_fields(EntityType.PROGRAMME, {"name": category.get("name")})
    return PulledRecord(
        ref=ExternalRef(
            connection,
            EntityType.PROGRAMME,
            f"category:{category['id']}",
            external_key=str(category.get("name") or "") or None,
            version_token=_token(values),
        ),
        values=values,
    )


def map_project(project: Mapping[str, Any], ctx: MapContext) -> list[PulledRecord | Quarantined]:
    """A Jira project as a Project (its key is the project code)."""
    pid = str(project.get("id") or "")
    if not pid:
        return [Quarantined(ctx.connection, EntityType.PROJECT, "?", "project without id")]
    try:
        description = project.get("description")
        values = validate_fields(
            EntityType.PROJECT,
            {
                "name": project.get("name"),
                "code": project.get("key"),
                "description": adf_to_text(description) if description else None,
            },
        )
    except (ValueError, ValidationError) as exc:
        return [
            Quarantined(ctx.connection, EntityType.PROJECT, pid, f"{project.get('key')}: {exc}")
        ]
    pointers = {}
    out: list[PulledRecord | Quarantined] = []
    category = project.get("projectCategory")
    if ctx.programmes and isinstance(category, dict) and category.get("id"):
        programme = category_programme(ctx.connection, category)
        pointers["programme"] = RemotePointer(EntityType.PROGRAMME, programme.ref.external_id)
        out.append(programme)
    lead = project.get("lead")
    lead_id = user_id(lead, ctx.cloud)
    if lead_id and isinstance(lead, dict):
        pointers["manager"] = RemotePointer(EntityType.PERSON, lead_id)
        person = person_record(ctx.connection, lead, ctx.cloud)
        if person is not None:
            out.append(person)
    out.insert(
        0,
        PulledRecord(
            ref=ExternalRef(
                ctx.connection,
                EntityType.PROJECT,
                pid,
                external_key=project.get("key"),
                version_token=_token({**values, "lead": lead_id}),
            ),
            values=values,
            pointers=pointers,
        ),
    )
    return out


def map_version(
    version: Mapping[str, Any], project_id: str, entity_type: EntityType, ctx: MapContext
) -> PulledRecord | Quarantined:
    """A fixVersion as a Milestone (due = release date) or a Release."""
    vid = str(version.get("id") or "")
    try:
        if not vid:
            raise MappingProblem("fixVersions", "version without id")
        released = bool(version.get("released"))
        release_date = _opt_date(version.get("releaseDate"), "fixVersions.releaseDate")
        if entity_type is EntityType.RELEASE:
            values = {
                "name": version.get("name"),
                "release_date": release_date,
                "released": released,
            }
        else:
            values = {
                "name": version.get("name"),
                "due": release_date,
                "done": released,
                "status": "done"
                if released
                else ("cancelled" if version.get("archived") else "not_started"),
            }
        checked = validate_fields(entity_type, values)
    except (MappingProblem, ValidationError) as problem:
        return Quarantined(
            ctx.connection, entity_type, vid or "?", f"version {version.get('name')!r}: {problem}"
        )
    return PulledRecord(
        ref=ExternalRef(
            ctx.connection,
            entity_type,
            vid,
            external_key=version.get("name"),
            version_token=_token(checked),
        ),
        values=checked,
        pointers={"project": RemotePointer(EntityType.PROJECT, project_id)} if project_id else {},
    )


# -- JQL -------------------------------------------------------------------------------------


def jql_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_moment(moment: datetime, zone: tzinfo, *, round_up: bool = False) -> str:
    """An instant as Jira reads JQL dates: wall time in the API user's zone, to the minute.

    Rounded down for lower bounds (never later than ``moment``), up for upper bounds. In a
    DST fall-back hour the wall time means two instants; Jira may read either, so the bound
    is moved by the repeated hour to stay on the safe side.
    """
    if moment.tzinfo is None:
        raise ValueError("JQL bounds need an aware datetime")
    local = moment.astimezone(zone)
    floored = local.replace(second=0, microsecond=0)
    if round_up and floored != local:
        floored = (floored + timedelta(minutes=1)).astimezone(zone)
    wall = floored.replace(tzinfo=None)
    first = wall.replace(fold=0).replace(tzinfo=zone)
    second = wall.replace(fold=1).replace(tzinfo=zone)
    gap = abs(first.utcoffset() - second.utcoffset())  # type: ignore[operator]
    if gap:
        wall = wall + gap if round_up else wall - gap
    return wall.strftime("%Y/%m/%d %H:%M")


def build_jql(
    profile: IssueProfile,
    *,
    since: str | None = None,
    until: str | None = None,
) -> str:
    """The scope's JQL: projects, issue types, the team's own clause, the window, ordered."""
    parts: list[str] = []
    if profile.projects:
        parts.append(f"project in ({', '.join(jql_quote(p) for p in profile.projects)})")
    if profile.issue_types:
        names = profile.options.get("issue_type_names") or sorted(profile.issue_types)
        parts.append(f"issuetype in ({', '.join(jql_quote(str(t)) for t in names)})")
    if profile.jql:
        parts.append(f"({profile.jql})")
    if since:
        parts.append(f"updated >= {jql_quote(since)}")
    if until:
        parts.append(f"updated <= {jql_quote(until)}")
    return " AND ".join(parts) + " ORDER BY updated ASC"


# -- push ------------------------------------------------------------------------------------


def target_status(values: Mapping[str, Any] | None, canonical: str) -> tuple[str, str] | None:
    """("category", key) or ("status", name) a canonical status is written as; None if none."""
    for remote, value in (values or {}).items():
        if value == canonical:
            remote_s = str(remote)
            kind = "category" if remote_s.lower() in STATUS_CATEGORIES else "status"
            return kind, remote_s.lower() if kind == "category" else remote_s
    if canonical in DEFAULT_TARGET_CATEGORY:
        return "category", DEFAULT_TARGET_CATEGORY[canonical]
    return None


def write_value(spec: FieldSpec, ctype: str, value: Any, *, adf: bool) -> Any:
    """A canonical value as the JSON a Jira edit takes for this field."""
    ftype = spec.field.type
    if value is None:
        return [] if ftype == "array" else None
    if spec.values is not None and ctype != "list":
        remote = None
        for option, canonical in spec.values.items():
            if canonical == value:
                remote = option
                break
        if remote is None:
            raise MappingProblem(spec.id, f"no Jira option maps to {value!r}")
        value = remote
        if ftype == "option":
            return {"value": str(value)}
        if ftype in ("priority", "resolution", "issuetype", "status"):
            return {"name": str(value)}
        return value
    if ctype == "date":
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return day.isoformat() if ftype != "datetime" else f"{day.isoformat()}T00:00:00.000+0000"
    if ctype in ("decimal", "int"):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if ctype == "list":
        items = [str(v) for v in value]
        if spec.field.items == "option":
            return [{"value": v} for v in items]
        if spec.field.items in ("component", "version"):
            return [{"name": v} for v in items]
        return items
    if ctype == "bool":
        text = "Yes" if value else "No"
        return {"value": text} if ftype == "option" else text
    if spec.field.rich_text:
        return text_to_adf(str(value)) if adf else str(value)
    if ftype == "option":
        return {"value": str(value)}
    return value


def same_value(ctype: str, current: Any, desired: Any) -> bool:
    """Compare canonical values in their JSON form (Decimal vs float, date vs str)."""
    if ctype in ("decimal", "int") and current is not None and desired is not None:
        try:
            return Decimal(str(current)) == Decimal(str(desired))
        except InvalidOperation:
            return False
    if ctype in ("date", "datetime") and current is not None and desired is not None:
        return str(current)[:19] == str(desired)[:19]
    if ctype == "list":
        return list(current or []) == list(desired or [])
    if ctype == "str":
        return (current or None) == (desired or None)
    return bool(current == desired)
