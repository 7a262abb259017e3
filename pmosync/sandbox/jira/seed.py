"""Deterministic seeding of a Jira instance.

``build_state(SeedSpec(...))`` returns a :class:`JiraState` filled from ``random.Random(rng_seed)``:
projects (APP, DATA, OPS, ...), epics, stories, tasks, bugs, sub-tasks and Risk issues with
parent/Epic Link hierarchy, statuses across the three categories, due dates, a "Start date"
and a "Story Points" custom field, fix versions with release dates, components, scrum boards
with closed/active/future sprints, Blocks/Relates/Finish-to-Start links (also across projects)
and changelogs.

Custom field ids differ per instance: ``customfield_{custom_field_base + offset}`` with the
offsets in :data:`CUSTOM_FIELD_OFFSETS`, and the default base differs between Cloud (10000:
Story Points is ``customfield_10016``) and Data Center (10090: ``customfield_10106``).

Credentials of the connector's user are ``SeedSpec.api_email``/``api_token`` (Cloud basic auth)
and ``SeedSpec.pat`` (DC Bearer token); ``SeedSpec.api_username`` is its DC user name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pmosync.sandbox.jira import adf
from pmosync.sandbox.jira.state import (
    Board,
    Component,
    FieldSpec,
    History,
    Issue,
    IssueType,
    JiraState,
    LinkType,
    Priority,
    Project,
    Resolution,
    Sprint,
    Status,
    Transition,
    User,
    Version,
)

UTC = UTC

# offsets from SeedSpec.custom_field_base
CUSTOM_FIELD_OFFSETS = {
    "Epic Name": 11,  # DC only
    "Epic Link": 14,  # DC only
    "Start date": 15,
    "Story Points": 16,
    "Rank": 19,
    "Sprint": 20,
    "Risk Impact": 30,
    "Risk Likelihood": 31,
    "Mitigation": 32,
    "Team": 33,
}

DEFAULT_USERS = ("Alice Martin", "Bob Chen", "Carla Diaz", "Deepak Rao", "Emma Novak")
USER_ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "UTC")
PROJECT_NAMES = {
    "APP": "Customer App",
    "DATA": "Data Platform",
    "OPS": "Operations",
    "WEB": "Web Portal",
    "SEC": "Security",
}


@dataclass
class SeedSpec:
    deployment: str = "cloud"  # cloud | server
    projects: int = 3
    issues_per_project: int = 40
    custom_field_base: int | None = None  # None: 10000 on Cloud, 10090 on DC
    time_zone: str = "Australia/Sydney"  # the API user's profile zone (JQL dates use it)
    users: tuple[str, ...] = DEFAULT_USERS
    rng_seed: int = 7
    api_email: str = "pmo-sync@example.com"
    api_token: str = "cloud-api-token"
    api_username: str = "pmosync"
    api_password: str = "dc-password"
    pat: str = "dc-personal-access-token"
    anchor: datetime | None = None  # "today" of the seeded history; None: midnight UTC today
    project_keys: tuple[str, ...] = ("APP", "DATA", "OPS", "WEB", "SEC")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    @property
    def field_base(self) -> int:
        if self.custom_field_base is not None:
            return self.custom_field_base
        return 10000 if self.cloud else 10090


def custom_field_id(spec: SeedSpec, name: str) -> str:
    """The id a seeded custom field gets, e.g. ``custom_field_id(spec, "Story Points")``."""
    return f"customfield_{spec.field_base + CUSTOM_FIELD_OFFSETS[name]}"


def _account_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _system_fields(cloud: bool) -> list[FieldSpec]:
    def sys(
        fid: str,
        name: str,
        kind: str,
        stype: str,
        *,
        items: str | None = None,
        navigable: bool = True,
        orderable: bool = True,
        clauses: list[str] | None = None,
        editable: bool = True,
    ) -> FieldSpec:
        schema: dict[str, Any] = {"type": stype, "system": fid}
        if items:
            schema["items"] = items
        return FieldSpec(
            id=fid,
            name=name,
            kind=kind,
            schema=schema,
            navigable=navigable,
            orderable=orderable,
            clause_names=clauses if clauses is not None else [fid],
            editable=editable,
        )

    fields = [
        sys("summary", "Summary", "string", "string"),
        sys("description", "Description", "richtext", "string"),
        sys("environment", "Environment", "richtext", "string"),
        sys("issuetype", "Issue Type", "issuetype", "issuetype", clauses=["issuetype", "type"]),
        sys("project", "Project", "project", "project", editable=False),
        sys("status", "Status", "status", "status", editable=False),
        sys("priority", "Priority", "priority", "priority"),
        sys("resolution", "Resolution", "resolution", "resolution"),
        sys(
            "resolutiondate",
            "Resolved",
            "datetime",
            "datetime",
            clauses=["resolutiondate", "resolved"],
            editable=False,
        ),
        sys("assignee", "Assignee", "user", "user"),
        sys("reporter", "Reporter", "user", "user"),
        sys("creator", "Creator", "user", "user", editable=False),
        sys("labels", "Labels", "labels", "array", items="string"),
        sys(
            "fixVersions",
            "Fix versions",
            "versions",
            "array",
            items="version",
            clauses=["fixVersion"],
        ),
        sys(
            "versions",
            "Affects versions",
            "versions",
            "array",
            items="version",
            clauses=["affectedVersion"],
        ),
        sys(
            "components",
            "Components",
            "components",
            "array",
            items="component",
            clauses=["component"],
        ),
        sys("duedate", "Due date", "date", "date", clauses=["due", "duedate"]),
        sys(
            "created",
            "Created",
            "datetime",
            "datetime",
            clauses=["created", "createdDate"],
            editable=False,
        ),
        sys(
            "updated",
            "Updated",
            "datetime",
            "datetime",
            clauses=["updated", "updatedDate"],
            editable=False,
        ),
        sys(
            "issuelinks",
            "Linked Issues",
            "readonly",
            "array",
            items="issuelinks",
            clauses=["issueLink"],
            editable=False,
        ),
        sys(
            "subtasks",
            "Sub-tasks",
            "readonly",
            "array",
            items="issuelinks",
            clauses=["subtasks"],
            editable=False,
        ),
        sys(
            "comment",
            "Comment",
            "readonly",
            "comments-page",
            navigable=False,
            clauses=["comment"],
            editable=False,
        ),
        sys(
            "issuekey",
            "Key",
            "readonly",
            "string",
            clauses=["id", "issue", "issuekey", "key"],
            editable=False,
        ),
    ]
    for spec in fields:
        if spec.id == "issuekey":
            spec.schema = {}
    if cloud:
        fields.append(sys("parent", "Parent", "parent", "issuelink", clauses=["parent"]))
        fields.append(
            sys(
                "statuscategorychangedate",
                "Status Category Changed",
                "datetime",
                "datetime",
                clauses=["statusCategoryChangedDate"],
                editable=False,
            )
        )
    else:
        # DC: only sub-tasks have a parent (stories reach their epic through Epic Link)
        fields.append(sys("parent", "Parent", "parent", "issuelink", clauses=["parent"]))
    return fields


def _custom_fields(spec: SeedSpec) -> list[FieldSpec]:
    prefix = "com.atlassian.jira.plugin.system.customfieldtypes:"
    wanted: list[tuple[str, str, dict[str, Any], list[dict[str, str]]]] = [
        ("Start date", "date", {"type": "date", "custom": prefix + "datepicker"}, []),
        ("Story Points", "number", {"type": "number", "custom": prefix + "float"}, []),
        (
            "Rank",
            "readonly",
            {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank"},
            [],
        ),
        (
            "Sprint",
            "sprint",
            {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
            [],
        ),
        (
            "Risk Impact",
            "option",
            {"type": "option", "custom": prefix + "select"},
            [
                {"id": str(spec.field_base + 100 + i), "value": v}
                for i, v in enumerate(("Low", "Medium", "High"))
            ],
        ),
        (
            "Risk Likelihood",
            "option",
            {"type": "option", "custom": prefix + "select"},
            [
                {"id": str(spec.field_base + 110 + i), "value": v}
                for i, v in enumerate(("Unlikely", "Possible", "Likely"))
            ],
        ),
        ("Mitigation", "richtext", {"type": "string", "custom": prefix + "textarea"}, []),
        ("Team", "string", {"type": "string", "custom": prefix + "textfield"}, []),
    ]
    if not spec.cloud:
        wanted[:0] = [
            (
                "Epic Name",
                "string",
                {"type": "string", "custom": "com.pyxis.greenhopper.jira:gh-epic-label"},
                [],
            ),
            (
                "Epic Link",
                "epiclink",
                {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
                [],
            ),
        ]
    out = []
    for name, kind, schema, options in wanted:
        number = spec.field_base + CUSTOM_FIELD_OFFSETS[name]
        out.append(
            FieldSpec(
                id=f"customfield_{number}",
                name=name,
                kind=kind,
                schema={**schema, "customId": number},
                custom=True,
                clause_names=[f"cf[{number}]", name],
                options=options,
                editable=kind != "readonly",
            )
        )
    return out


def _catalogues(state: JiraState, cloud: bool) -> None:
    statuses = (
        [
            ("10000", "To Do", "new"),
            ("3", "In Progress", "indeterminate"),
            ("10002", "In Review", "indeterminate"),
            ("10001", "Done", "done"),
        ]
        if cloud
        else [
            ("1", "Open", "new"),
            ("3", "In Progress", "indeterminate"),
            ("10100", "In Review", "indeterminate"),
            ("6", "Closed", "done"),
        ]
    )
    for sid, name, category in statuses:
        state.statuses[sid] = Status(sid, name, category)
    done = statuses[-1][0]
    (new, _, _), (doing, _, _), (review, _, _) = statuses[:3]
    # Transitions depend on the current status (ids differ by route: "Stop Progress" and
    # "Reopen" both lead to the new status), but each category is one hop from any status.
    state.transitions = [
        Transition("11", "Stop Progress", new, from_statuses=(doing, review)),
        Transition("51", "Reopen" if cloud else "Reopen Issue", new, from_statuses=(done,)),
        Transition("21", "Start Progress", doing, from_statuses=(new, review, done)),
        Transition("31", "Review", review, from_statuses=(doing,)),
        Transition(
            "41",
            "Done" if cloud else "Close Issue",
            done,
            required_fields=("resolution",),
            screen_fields=("resolution", "assignee"),
        ),
    ]
    types = [
        ("10000", "Epic", False, 1, "A big user story that needs to be broken down."),
        ("10001", "Story", False, 0, "Functionality or a feature expressed as a user goal."),
        ("10002", "Task", False, 0, "A small, distinct piece of work."),
        ("10003", "Bug", False, 0, "A problem or error."),
        ("10004", "Sub-task", True, -1, "A small piece of work that's part of a larger task."),
        ("10005", "Risk", False, 0, "A RAID log risk."),
    ]
    for tid, name, subtask, level, description in types:
        state.issue_types[tid] = IssueType(tid, name, subtask, level, description)
    for pid, name in (
        ("1", "Highest"),
        ("2", "High"),
        ("3", "Medium"),
        ("4", "Low"),
        ("5", "Lowest"),
    ):
        state.priorities[pid] = Priority(pid, name)
    for rid, name, text in (
        ("10000", "Done", "Work has been completed on this issue."),
        ("10001", "Won't Do", "This issue won't be actioned."),
        ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ):
        state.resolutions[rid] = Resolution(rid, name, text)
    for lid, name, inward, outward in (
        ("10000", "Blocks", "is blocked by", "blocks"),
        ("10001", "Cloners", "is cloned by", "clones"),
        ("10002", "Duplicate", "is duplicated by", "duplicates"),
        ("10003", "Relates", "relates to", "relates to"),
        ("10004", "Finish-to-Start", "has to be done after", "has to be done before"),
    ):
        state.link_types[lid] = LinkType(lid, name, inward, outward)


def _users(state: JiraState, spec: SeedSpec, rng: random.Random) -> list[str]:
    api = User(
        account_id=_account_id(rng),
        name=spec.api_username,
        key="JIRAUSER10000",
        display_name="pmo-sync integration",
        email=spec.api_email,
        time_zone=spec.time_zone,
        api_token=spec.api_token,
        password=spec.api_password,
        pat=spec.pat,
        admin=False,
    )
    state.users[api.account_id] = api
    state.api_user = api.account_id
    humans = []
    for i, display_name in enumerate(spec.users):
        first = display_name.split()[0].lower()
        user = User(
            account_id=_account_id(rng),
            name=first,
            key=f"JIRAUSER{10001 + i}",
            display_name=display_name,
            email=f"{first}@example.com",
            time_zone=USER_ZONES[i % len(USER_ZONES)],
            api_token=f"{first}-token",
            password=f"{first}-password",
            pat=f"{first}-pat",
            admin=i == 0,
        )
        state.users[user.account_id] = user
        humans.append(user.account_id)
    viewer = User(
        account_id=_account_id(rng),
        name="viewer",
        key=f"JIRAUSER{10001 + len(spec.users)}",
        display_name="Read Only",
        email="viewer@example.com",
        api_token="viewer-token",
        password="viewer-password",
        pat="viewer-pat",
        can_write=False,
    )
    state.users[viewer.account_id] = viewer
    state.human_user = humans[0] if humans else api.account_id
    return humans


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def build_state(spec: SeedSpec) -> JiraState:
    """A fresh, fully seeded instance; the same spec always gives the same data."""
    rng = random.Random(spec.rng_seed)
    cloud = spec.cloud
    state = JiraState(deployment="cloud" if cloud else "server")
    state.version_numbers = (1001, 0, 0) if cloud else (9, 12, 15)
    anchor = spec.anchor or datetime.combine(datetime.now(UTC).date(), time(), UTC)
    _catalogues(state, cloud)
    for fspec in _system_fields(cloud) + _custom_fields(spec):
        state.fields[fspec.id] = fspec
    humans = _users(state, spec, rng)
    fid = {
        name: field_id
        for name in CUSTOM_FIELD_OFFSETS
        if (field_id := state.custom_field_id(name)) is not None
    }
    status_ids = list(state.statuses)
    new_status, doing_status, review_status, done_status = status_ids
    board_id = 1
    sprint_id = 1
    for p_index in range(spec.projects):
        key = spec.project_keys[p_index]
        project = Project(
            id=str(10000 + p_index),
            key=key,
            name=PROJECT_NAMES.get(key, f"Project {key}"),
            lead=humans[p_index % len(humans)] if humans else state.api_user,
            issue_type_ids=list(state.issue_types),
            description=f"Seeded {key} project",
        )
        state.projects[project.id] = project
        versions = []
        for v_index, (name, released) in enumerate(
            (("1.0", True), ("1.1", True), ("2.0", False), ("2.1", False))
        ):
            release = anchor.date() + timedelta(days=-60 + 35 * v_index)
            version = Version(
                id=str(state.next_version_id),
                project_id=project.id,
                name=f"{key} {name}",
                description=f"{key} release {name}",
                released=released,
                start_date=(release - timedelta(days=30)).isoformat(),
                release_date=release.isoformat(),
            )
            state.next_version_id += 1
            state.versions[version.id] = version
            versions.append(version.id)
        components = []
        for c_name in ("Backend", "Frontend", "Infrastructure"):
            component = Component(
                str(state.next_component_id), project.id, c_name, f"{c_name} work", project.lead
            )
            state.next_component_id += 1
            state.components[component.id] = component
            components.append(component.id)
        board = Board(board_id, f"{key} board", "scrum", project.id)
        state.boards[board.id] = board
        board_id += 1
        sprints: list[Sprint] = []
        for s_index, s_state in enumerate(
            ("closed", "closed", "closed", "active", "future", "future")
        ):
            start = anchor + timedelta(days=14 * (s_index - 3))
            sprint = Sprint(
                id=sprint_id,
                board_id=board.id,
                name=f"{key} Sprint {s_index + 1}",
                state=s_state,
                start=start if s_state != "future" else None,
                end=start + timedelta(days=14) if s_state != "future" else None,
                complete=start + timedelta(days=14) if s_state == "closed" else None,
                goal=f"Sprint goal {s_index + 1}",
                created=start - timedelta(days=7),
            )
            state.sprints[sprint.id] = sprint
            sprints.append(sprint)
            sprint_id += 1
        _seed_issues(
            state,
            spec,
            rng,
            project,
            anchor,
            humans,
            versions,
            components,
            sprints,
            fid,
            (new_status, doing_status, review_status, done_status),
        )
    _seed_links(state, rng)
    return state


def _seed_issues(
    state: JiraState,
    spec: SeedSpec,
    rng: random.Random,
    project: Project,
    anchor: datetime,
    humans: list[str],
    versions: list[str],
    components: list[str],
    sprints: list[Sprint],
    fid: dict[str, str],
    statuses: tuple[str, str, str, str],
) -> None:
    cloud = spec.cloud
    total = spec.issues_per_project
    n_epics = max(1, total // 12)
    n_risks = max(1, total // 20)
    n_subtasks = total // 10
    kinds = ["Epic"] * n_epics + ["Risk"] * n_risks
    rest = total - len(kinds) - n_subtasks
    for _ in range(max(rest, 0)):
        kinds.append(rng.choices(["Story", "Task", "Bug"], weights=[6, 2, 2])[0])
    kinds += ["Sub-task"] * n_subtasks
    kinds = kinds[:total]
    type_ids = {t.name: t.id for t in state.issue_types.values()}
    epics: list[Issue] = []
    parents: list[Issue] = []
    new_s, doing_s, review_s, done_s = statuses
    people = humans or [state.api_user]
    for index, kind in enumerate(kinds):
        created = _ms(anchor - timedelta(days=rng.uniform(30, 120), minutes=rng.randint(0, 1439)))
        status = rng.choices([new_s, doing_s, review_s, done_s], weights=[3, 3, 1, 3])[0]
        fields: dict[str, Any] = {
            "summary": f"{kind} {index + 1} of {project.name}",
            "description": _adf(f"Seeded {kind.lower()} for {project.key}.\n\nAcceptance: done."),
            "environment": None,
            "issuetype": type_ids[kind],
            "status": new_s,
            "priority": rng.choice(["2", "3", "3", "4"]),
            "resolution": None,
            "resolutiondate": None,
            "assignee": rng.choice(people + [None]),
            "reporter": rng.choice(people),
            "creator": None,
            "labels": sorted(
                rng.sample(["pmo", "q3", "customer", "tech-debt", "platform"], rng.randint(0, 2))
            ),
            "fixVersions": [],
            "versions": [],
            "components": [rng.choice(components)] if rng.random() < 0.6 else [],
            "duedate": None,
            "parent": None,
        }
        fields["creator"] = fields["reporter"]
        for name in (
            "Start date",
            "Story Points",
            "Sprint",
            "Risk Impact",
            "Risk Likelihood",
            "Mitigation",
            "Team",
            "Epic Name",
            "Epic Link",
            "Rank",
        ):
            if fid.get(name):
                fields[fid[name]] = None
        fields[fid["Sprint"]] = []
        fields[fid["Rank"]] = f"0|i{len(state.issues):05x}:"
        if kind == "Epic" and fid.get("Epic Name"):
            fields[fid["Epic Name"]] = fields["summary"]
        if kind in ("Story", "Task", "Bug") and epics and rng.random() < 0.8:
            epic = rng.choice(epics)
            if cloud:
                fields["parent"] = epic.id
            else:
                fields[fid["Epic Link"]] = epic.id
        if kind == "Sub-task":
            fields["parent"] = rng.choice(parents).id if parents else None
            if fields["parent"] is None:
                fields["issuetype"] = type_ids["Task"]
        if kind == "Story":
            fields[fid["Story Points"]] = float(rng.choice([1, 2, 3, 5, 8, 13]))
        if kind in ("Story", "Task", "Bug", "Epic") and rng.random() < 0.6:
            fields["fixVersions"] = [rng.choice(versions)]
        if kind == "Bug" and rng.random() < 0.5:
            fields["versions"] = [versions[0]]
        if rng.random() < 0.55:
            start = (anchor - timedelta(days=rng.randint(-10, 60))).date()
            fields[fid["Start date"]] = start.isoformat()
            fields["duedate"] = (start + timedelta(days=rng.randint(3, 40))).isoformat()
        elif rng.random() < 0.3:
            fields["duedate"] = (anchor.date() + timedelta(days=rng.randint(-20, 60))).isoformat()
        if kind in ("Story", "Task", "Bug"):
            if status == done_s:
                fields[fid["Sprint"]] = [rng.choice(sprints[:3]).id]
            elif rng.random() < 0.7:
                fields[fid["Sprint"]] = [sprints[3].id] if rng.random() < 0.7 else [sprints[4].id]
        if kind == "Risk":
            impact = state.fields[fid["Risk Impact"]].options
            likely = state.fields[fid["Risk Likelihood"]].options
            fields[fid["Risk Impact"]] = rng.choice(impact)["id"]
            fields[fid["Risk Likelihood"]] = rng.choice(likely)["id"]
            fields[fid["Mitigation"]] = _adf("Mitigation: monitor weekly and escalate.")
        fields[fid["Team"]] = rng.choice(["Alpha", "Beta", None])
        issue = state.new_issue(project, fields, created)
        # history: walk the workflow up to the chosen status
        moment = created
        path = {
            new_s: [],
            doing_s: [doing_s],
            review_s: [doing_s, review_s],
            done_s: [doing_s, review_s, done_s],
        }[status]
        current = new_s
        for target in path:
            moment = _ms(moment + timedelta(hours=rng.uniform(2, 72)))
            items: list[dict[str, Any]] = [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": current,
                    "fromString": state.statuses[current].name,
                    "to": target,
                    "toString": state.statuses[target].name,
                }
            ]
            if target == done_s:
                items.append(
                    {
                        "field": "resolution",
                        "fieldtype": "jira",
                        "fieldId": "resolution",
                        "from": None,
                        "fromString": None,
                        "to": "10000",
                        "toString": "Done",
                    }
                )
                issue.fields["resolution"] = "10000"
                issue.fields["resolutiondate"] = moment
            issue.histories.append(
                History(str(state.next_history_id), rng.choice(people), moment, items)
            )
            state.next_history_id += 1
            current = target
        issue.fields["status"] = current
        issue.fields["statuscategorychangedate"] = moment if path else created
        if rng.random() < 0.3:
            moment = _ms(moment + timedelta(hours=rng.uniform(1, 48)))
            issue.histories.append(
                History(
                    str(state.next_history_id),
                    rng.choice(people),
                    moment,
                    [
                        {
                            "field": "summary",
                            "fieldtype": "jira",
                            "fieldId": "summary",
                            "from": None,
                            "fromString": f"Draft {index + 1}",
                            "to": None,
                            "toString": issue.fields["summary"],
                        }
                    ],
                )
            )
            state.next_history_id += 1
        issue.updated = moment
        if kind == "Epic":
            epics.append(issue)
        if kind in ("Story", "Task"):
            parents.append(issue)


def _seed_links(state: JiraState, rng: random.Random) -> None:
    """Links as teams make them: logic links (Blocks, Finish-to-Start) mostly inside a project
    and in date order, a few across projects, a few that the dates already break (so the
    dependency checks have something true to find); Relates anywhere."""
    issues = [
        i for i in state.issues.values() if not state.issue_types[i.fields["issuetype"]].subtask
    ]
    if len(issues) < 2:
        return
    by_name = {t.name: t.id for t in state.link_types.values()}
    start_field = state.custom_field_id("Start date")

    def dates(issue: Issue) -> tuple[str, str] | None:
        due = issue.fields.get("duedate")
        start = issue.fields.get(start_field) if start_field else None
        return (start or due, due) if due else None

    # Epics group stories: a logic link on one would stand for all of its stories.
    dated = [
        i for i in issues if dates(i) and state.issue_types[i.fields["issuetype"]].name != "Epic"
    ]
    plan = [
        ("Blocks", len(issues) // 8),
        ("Relates", len(issues) // 15),
        ("Finish-to-Start", len(issues) // 15),
    ]
    seen: set[tuple[int, int]] = set()
    for name, count in plan:
        logic = name != "Relates"
        pool = dated if logic else issues
        if len(pool) < 2:
            continue
        for _ in range(count * 4):  # bounded: give up on a link type rather than loop
            if count <= 0:
                break
            source, target = rng.sample(pool, 2)
            if logic:
                if source.project_id != target.project_id and rng.random() < 0.8:
                    continue  # most logic stays inside a team's project
                a, b = dates(source), dates(target)
                assert a and b
                if a[1] >= b[0] and b[1] < a[0]:
                    source, target, a, b = target, source, b, a
                if a[1] >= b[0] and rng.random() < 0.85:
                    continue  # overlapping work: only a few links are already broken
            if (source.id, target.id) in seen or (target.id, source.id) in seen:
                continue
            seen.add((source.id, target.id))
            state.add_link(by_name[name], source.id, target.id)
            count -= 1
    # at least one cross-project Blocks link between each neighbour pair of projects, in
    # date order where the projects have dated issues
    projects: dict[str, list[Issue]] = {}
    for issue in dated or issues:
        projects.setdefault(issue.project_id, []).append(issue)
    heads = list(projects.values())
    for left, right in zip(heads, heads[1:], strict=False):
        first = min(left, key=lambda i: dates(i) or ("", ""))
        last = max(right, key=lambda i: dates(i) or ("", ""))
        if (dates(first) or ("", ""))[1] > (dates(last) or ("", ""))[0]:
            first, last = last, first
        state.add_link(by_name["Blocks"], first.id, last.id)


def _adf(text: str) -> dict[str, Any]:
    return adf.from_text(text)
