"""`pmo-sync init`: a commented pmo-sync.yaml and one team mapping per tool.

Secrets are never asked for or written: each connection names an environment variable
(``token_env``). When that variable is set, init reads the tool through the connector's
``discover`` and fills the mapping with the tables, fields, options, projects and statuses the
tool really has; otherwise it writes a starting mapping with the usual names and says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from pmosync.errors import ConfigError, PmoSyncError

TOOLS = ("airtable", "jira", "pwa")
DEFAULT_ENVS = {"airtable": "AIRTABLE_TOKEN", "jira": "JIRA_TOKEN", "pwa": "PWA_CLIENT_SECRET"}
CONNECTION_NAMES = {"airtable": "pmo_airtable", "jira": "delivery_jira", "pwa": "plans_pwa"}

# canonical field -> names people give the column (lower case), first match wins
AIRTABLE_PROJECT_FIELDS = {
    "name": ("name", "project", "project name"),
    "code": ("code", "project code", "key", "id"),
    "status": ("status", "state"),
    "planned_start": ("start date", "start", "planned start"),
    "planned_finish": ("finish date", "end date", "finish", "planned finish", "due date"),
    "rag": ("rag", "health", "rag status"),
    "manager": ("manager", "project manager", "owner"),
}
AIRTABLE_MILESTONE_FIELDS = {
    "name": ("name", "milestone"),
    "project": ("project",),
    "due": ("due date", "due", "date"),
    "done": ("done", "complete", "completed"),
}
STATUS_WORDS = {
    "not_started": ("not started", "to do", "todo", "new", "planned", "backlog"),
    "active": ("in progress", "active", "doing", "started", "ongoing"),
    "on_hold": ("on hold", "paused", "blocked"),
    "done": ("done", "complete", "completed", "closed", "finished"),
    "cancelled": ("cancelled", "canceled", "dropped", "won't do"),
}
RAG_WORDS = {"G": ("green", "g", "on track"), "A": ("amber", "a", "at risk"), "R": ("red", "r")}
JIRA_CATEGORIES = {"new": "not_started", "indeterminate": "active", "done": "done"}


@dataclass
class InitAnswers:
    tools: list[str] = field(default_factory=list)
    airtable_base: str | None = None
    airtable_url: str | None = None
    jira_url: str | None = None
    jira_email: str | None = None
    jira_projects: list[str] = field(default_factory=list)
    pwa_url: str | None = None
    pwa_client_id: str | None = None
    pwa_tenant: str = "organizations"
    token_envs: dict[str, str] = field(default_factory=dict)
    ca_bundle: Path | None = None

    def env(self, tool: str) -> str:
        return self.token_envs.get(tool) or DEFAULT_ENVS[tool]


@dataclass
class InitResult:
    config_path: Path
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ask_missing(
    answers: InitAnswers,
    *,
    prompt: Callable[..., Any],
    confirm: Callable[..., bool],
) -> None:
    """Ask for the tools and each tool's address (never a secret)."""
    while not answers.tools:
        raw = str(prompt("Which tools? (airtable, jira, pwa; comma separated)", default="jira"))
        chosen = [t.strip().lower() for t in raw.split(",") if t.strip()]
        unknown = [t for t in chosen if t not in TOOLS]
        if unknown:
            continue
        answers.tools = chosen
    if "airtable" in answers.tools and not answers.airtable_base:
        answers.airtable_base = str(prompt("Airtable base id (app…)"))
    if "jira" in answers.tools and not answers.jira_url:
        answers.jira_url = str(prompt("Jira site URL (https://…)"))
        if confirm("Jira Cloud (e-mail + API token)?", default=True):
            answers.jira_email = str(prompt("The API user's e-mail"))
    if "jira" in answers.tools and not answers.jira_projects:
        keys = str(prompt("Jira project keys (comma separated, empty: discover)", default=""))
        answers.jira_projects = [k.strip() for k in keys.split(",") if k.strip()]
    if "pwa" in answers.tools and not answers.pwa_url:
        answers.pwa_url = str(prompt("Project Server / Online PWA site URL"))
        answers.pwa_client_id = str(prompt("Entra app (client) id"))


# -- connections -------------------------------------------------------------------------------
def _connection(tool: str, a: InitAnswers) -> dict[str, Any]:
    ca = {"ca_bundle": str(a.ca_bundle)} if a.ca_bundle else {}
    if tool == "airtable":
        if not a.airtable_base:
            raise ConfigError("airtable: give the base id (--airtable-base app…)")
        conn: dict[str, Any] = {"kind": "airtable", "base_id": a.airtable_base}
        if a.airtable_url:
            conn["endpoint_url"] = a.airtable_url
        return {**conn, "token_env": a.env(tool), **ca}
    if tool == "jira":
        if not a.jira_url:
            raise ConfigError("jira: give the site URL (--jira-url https://…)")
        conn = {"kind": "jira", "url": a.jira_url}
        if a.jira_email:
            conn["email"] = a.jira_email
        return {**conn, "token_env": a.env(tool), **ca}
    if not a.pwa_url:
        raise ConfigError("pwa: give the PWA site URL (--pwa-url https://…)")
    conn = {"kind": "pwa", "site_url": a.pwa_url, "tenant": a.pwa_tenant}
    conn["client_id"] = a.pwa_client_id or "<entra-app-id>"
    # Delegated sign-in, whatever the environment holds: Project Online has no app-only access
    # and SharePoint Online refuses secret-based app-only tokens (docs/microsoft-project.md).
    conn["auth"] = "device_code"
    return {**conn, **ca}


def _discover(tool: str, name: str, conn: dict[str, Any]) -> dict[str, Any]:
    from importlib import import_module

    from pmosync.cli import DISCOVERERS
    from pmosync.config.models import PmoSyncConfig

    model = PmoSyncConfig.model_validate({"connections": {name: conn}}).connections[name]
    module = import_module(DISCOVERERS[tool])
    found: dict[str, Any] = module.discover(name, model)
    return found


# -- mappings ----------------------------------------------------------------------------------
def _pick(options: list[str], words: tuple[str, ...]) -> str | None:
    lowered = {o.lower(): o for o in options}
    return next((lowered[w] for w in words if w in lowered), None)


def _values(options: list[str], vocabulary: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for canonical, words in vocabulary.items():
        for option in options:
            if option.lower() in words and option not in out:
                out[option] = canonical
    return out


def _airtable_fields(table: dict[str, Any], wanted: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    by_name = {f["name"]: f for f in table["fields"]}
    fields: dict[str, Any] = {}
    for canonical, words in wanted.items():
        name = _pick(list(by_name), words)
        if name is None:
            continue
        f = by_name[name]
        entry = CommentedMap(field=f["id"])
        entry.yaml_add_eol_comment(name, "field")  # ids survive renames; the name is for people
        if canonical == "status" and f.get("options"):
            entry["values"] = _values(f["options"], STATUS_WORDS)
        if canonical == "rag" and f.get("options"):
            entry["values"] = _values(f["options"], RAG_WORDS)
        fields[canonical] = entry
    return fields


def airtable_mapping(found: dict[str, Any] | None) -> dict[str, Any]:
    if found is None:
        return {
            "entities": {
                "project": {
                    "table": "Projects",
                    "fields": {"name": {"field": "Name"}, "code": {"field": "Code"}},
                }
            }
        }
    tables = {t["name"].lower(): t for t in found["tables"]}
    entities: dict[str, Any] = {}
    projects = tables.get("projects") or (found["tables"][0] if found["tables"] else None)
    if projects is not None:
        entities["project"] = {
            "table": projects["id"],
            "fields": _airtable_fields(projects, AIRTABLE_PROJECT_FIELDS),
        }
        ids = [f for f in projects["fields"] if f["name"].lower() == "pmo-sync id"]
        if ids:
            entities["project"]["id_field"] = ids[0]["id"]
    milestones = tables.get("milestones")
    if milestones is not None:
        entities["milestone"] = {
            "table": milestones["id"],
            "fields": _airtable_fields(milestones, AIRTABLE_MILESTONE_FIELDS),
        }
    return {"entities": entities}


def jira_mapping(found: dict[str, Any] | None, projects: list[str]) -> dict[str, Any]:
    keys = projects or ([p["key"] for p in found["projects"]] if found is not None else ["PROJ"])
    status: dict[str, Any] = {"field": "status"}
    if found is not None:
        status["values"] = {
            s["name"]: JIRA_CATEGORIES[s["category"]]
            for s in found["statuses"]
            if s.get("category") in JIRA_CATEGORIES
        }
    return {
        "entities": {
            "project": {"projects": list(keys)},
            "work_item": {
                "projects": list(keys),
                "fields": {
                    "name": {"field": "summary"},
                    "status": status,
                    "due": {"field": "duedate"},
                },
            },
        }
    }


def pwa_mapping(found: dict[str, Any] | None) -> dict[str, Any]:
    project: dict[str, Any] = {
        "fields": {"code": {"field": "ProjectIdentifier", "direction": "pull"}}
    }
    return {"entities": {"project": project, "work_item": {}, "milestone": {}, "dependency": {}}}


# -- files -------------------------------------------------------------------------------------
HEADER = """\
# pmo-sync configuration, written by `pmo-sync init`. Check it with `pmo-sync doctor`.
# Reference: `pmo-sync config schema` (JSON Schema for your editor), docs/configuration.md.
# Secrets never live here: each connection names an environment variable (token_env) or a
# file (token_file) holding its secret. Cron and systemd do not read your shell profile, so
# set them where pmo-sync runs (docs/operations.md).
version: 1

# Where pmo-sync keeps what it read, its cursors and the outbox of writes. SQLite next to this
# file is fine for one machine; use PostgreSQL (url_env: PMOSYNC_STORE_URL) in a cluster.
store:
  url: sqlite:///pmo-sync.db

portfolio:
  name: {portfolio}
  timezone: {timezone}

sync:
  # re-read this much before each cursor (clock skew, slow indexing)
  overlap: 5m
  # what happens when two tools changed the same field: latest wins, or hold for a person
  default_conflict: latest

# Who hears about failed or partial runs and conflicts held for a person (optional):
# notify:
#   webhooks:
#     - format: teams            # or slack, json
#       url_env: PMOSYNC_WEBHOOK_URL
#   email:
#     host: smtp.example.com
#     sender: pmo-sync@example.com
#     to: [pmo@example.com]
#     username: pmo-sync
#     password_env: PMOSYNC_SMTP_PASSWORD

"""

COMMENTS = {
    "airtable": "Airtable base; token: a personal access token with data.records:read,\n"
    "  # data.records:write and schema.bases:read",
    "jira": "Jira site; with email: a Cloud API token, without: a Data Center PAT",
    "pwa": "Project Server / Online; device_code: sign in once with `pmo-sync auth login`",
}


def write_setup(
    directory: Path, answers: InitAnswers, *, discover: bool = True, force: bool = False
) -> InitResult:
    """Write pmo-sync.yaml and teams/<tool>.yaml; returns what was written and notes."""
    unknown = [t for t in answers.tools if t not in TOOLS]
    if unknown:
        raise ConfigError(f"unknown tool(s) {', '.join(unknown)}: choose from {', '.join(TOOLS)}")
    if not answers.tools:
        raise ConfigError("no tools chosen: give --tool airtable|jira|pwa (repeatable)")
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "pmo-sync.yaml"
    result = InitResult(config_path)
    targets = [config_path] + [directory / "teams" / f"{t}.yaml" for t in answers.tools]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(map(str, existing))} already exist(s): pass --force to overwrite, or "
            "--dir to write elsewhere"
        )
    yaml = YAML()
    yaml.default_flow_style = False
    connections: dict[str, Any] = {}
    teams: dict[str, Any] = {}
    for tool in answers.tools:
        name = CONNECTION_NAMES[tool]
        conn = _connection(tool, answers)
        connections[name] = conn
        found = None
        env = answers.env(tool)
        if discover and os.environ.get(env) and tool != "pwa":
            try:
                found = _discover(tool, name, conn)
                result.notes.append(f"{name}: mapping filled from what {tool} holds (discover)")
            except PmoSyncError as exc:
                result.notes.append(f"{name}: could not read {tool} ({exc}); wrote a template")
        elif tool != "pwa":
            result.notes.append(
                f"{name}: {env} is not set, so the mapping is a template with the usual names; "
                f"export {env} and run init again (--force), or edit teams/{tool}.yaml"
            )
        if tool == "airtable":
            mapping = airtable_mapping(found)
        elif tool == "jira":
            mapping = jira_mapping(found, answers.jira_projects)
        else:
            mapping = pwa_mapping(found)
            if conn["auth"] == "device_code":
                result.notes.append(f"{name}: sign in once with `pmo-sync auth login {name}`")
        mapping_path = directory / "teams" / f"{tool}.yaml"
        mapping_path.parent.mkdir(exist_ok=True)
        with mapping_path.open("w", encoding="utf-8") as handle:
            handle.write(
                f"# Team mapping for {name}, written by `pmo-sync init`: canonical field ->\n"
                f"# {tool} field. `pmo-sync discover {name}` lists what can be named;\n"
                "# `pmo-sync config schema --kind mapping` is the reference.\n"
            )
            yaml.dump(mapping, handle)
        result.written.append(mapping_path)
        teams[tool] = {"connection": name, "mapping": f"teams/{tool}.yaml"}
    with config_path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER.format(portfolio="My portfolio", timezone="Europe/London"))
        handle.write("connections:\n")
        for name, conn in connections.items():
            tool = conn["kind"]
            handle.write(f"  # {COMMENTS[tool]}\n")
            block: dict[str, Any] = {name: conn}
            _dump_indented(yaml, block, handle)
        handle.write("\n# Each team: a connection and the mapping file of what it holds.\nteams:\n")
        _dump_indented(yaml, teams, handle)
    result.written.insert(0, config_path)
    return result


def _dump_indented(yaml: YAML, data: dict[str, Any], handle: Any) -> None:
    from io import StringIO

    buffer = StringIO()
    yaml.dump(data, buffer)
    for line in buffer.getvalue().splitlines():
        handle.write(f"  {line}\n")
