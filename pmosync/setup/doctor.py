"""`pmo-sync doctor`: everything a sync needs from each connection, checked in order.

For each connection: its secrets are present (and private), its host is reachable, its TLS
chain verifies with the configured trust, its credentials are accepted, it may read and write
what its mappings read and write, and every mapped table, project, field and option exists.
A later check is skipped (and says so) when an earlier one it depends on failed. Each finding
carries the fix. Nothing is written to any tool.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pmosync.canonical_model import EntityType
from pmosync.config.loader import LoadedConfig
from pmosync.config.mapping import EntityMapping, TeamMapping
from pmosync.config.secrets import SecretRef
from pmosync.errors import AuthError, ConfigError, PmoSyncError, RetriableError
from pmosync.redact import redact

Status = Literal["ok", "warn", "fail", "skip"]
CHECKS = ("secrets", "reachable", "tls", "credentials", "permissions", "fields")
SOCKET_TIMEOUT = 5.0


@dataclass
class Finding:
    connection: str
    check: str
    status: Status
    message: str
    fix: str = ""
    kind: str = ""  # "auth" for refused credentials (exit 3 when nothing else failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
        }


class Checker:
    """Collects one connection's findings."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.findings: list[Finding] = []

    def add(self, check: str, status: Status, message: str, fix: str = "", kind: str = "") -> None:
        self.findings.append(Finding(self.name, check, status, redact(message), redact(fix), kind))

    def failed(self, *checks: str) -> bool:
        return any(f.status == "fail" and f.check in checks for f in self.findings)


# -- secrets ---------------------------------------------------------------------------------
def secret_fix(ref: SecretRef, what: str) -> str:
    if ref.env:
        return (
            f"export {ref.env}=<{what}> in the environment that runs pmo-sync (cron, the "
            "systemd unit's EnvironmentFile, the Kubernetes Secret), or use a _file instead"
        )
    return f"write the {what} to {ref.file} (one line) and `chmod 600 {ref.file}`"


def check_secret(checker: Checker, ref: SecretRef, what: str) -> str | None:
    try:
        value = ref.resolve(what, connection=checker.name)
    except AuthError as exc:
        checker.add("secrets", "fail", str(exc), secret_fix(ref, what), kind="auth")
        return None
    if ref.file is not None:
        mode = stat.S_IMODE(os.stat(ref.file).st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            checker.add(
                "secrets",
                "warn",
                f"{what}: {ref.file} is readable by others (mode {mode:o})",
                f"chmod 600 {ref.file}",
            )
            return value
    checker.add("secrets", "ok", f"{what}: from {ref.describe()}")
    return value


# -- network ---------------------------------------------------------------------------------
def check_network(checker: Checker, url: str, ca_bundle: Path | None) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=SOCKET_TIMEOUT):
            pass
    except OSError as exc:
        checker.add(
            "reachable",
            "fail",
            f"cannot connect to {host}:{port}: {exc.strerror or exc}",
            "check the URL in pmo-sync.yaml, DNS, the firewall and any proxy "
            "(HTTPS_PROXY/NO_PROXY in the environment that runs pmo-sync)",
        )
        return
    checker.add("reachable", "ok", f"{host}:{port} accepts connections")
    if parts.scheme != "https":
        checker.add(
            "tls",
            "warn",
            f"{url} is plain http: tokens cross the network unencrypted",
            "use the https:// URL",
        )
        return
    if ca_bundle is not None and not ca_bundle.is_file():
        checker.add(
            "tls",
            "fail",
            f"ca_bundle {ca_bundle} does not exist",
            "point ca_bundle at your organisation's CA certificates (PEM), or remove it",
        )
        return
    import certifi

    # the vendor clients verify with certifi unless ca_bundle is set; check the same trust
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else certifi.where())
    try:
        with (
            socket.create_connection((host, port), timeout=SOCKET_TIMEOUT) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        trust = f"ca_bundle {ca_bundle}" if ca_bundle else "the public CAs (certifi)"
        checker.add(
            "tls",
            "fail",
            f"{host}: the certificate chain does not verify against {trust}: {exc.verify_message}",
            "if a proxy or an internal CA signs this site, set ca_bundle on the connection to "
            "that CA's PEM file (TLS verification stays on)",
        )
        return
    except (ssl.SSLError, OSError) as exc:
        checker.add("tls", "fail", f"{host}: TLS handshake failed: {exc}", "check the URL/port")
        return
    checker.add("tls", "ok", f"{host}: {version}, certificate chain verified")


# -- per tool --------------------------------------------------------------------------------
def _mapped(mappings: Iterable[TeamMapping]) -> list[tuple[TeamMapping, EntityType, EntityMapping]]:
    return [(m, t, e) for m in mappings for t, e in m.entities.items()]


def _writes(entity_type: EntityType, entity: EntityMapping) -> bool:
    return bool(entity.writable(entity_type)) or entity.create_missing


def _where(mapping: TeamMapping, entity_type: EntityType, field: str | None = None) -> str:
    path = f"entities.{entity_type.value}" + (f".fields.{field}" if field else "")
    return f"{mapping.source or mapping.team} {path}"


def check_airtable(checker: Checker, loaded: LoadedConfig, conn: Any) -> None:
    from pyairtable import Api

    from pmosync.connectors.airtable.discover import discover
    from pmosync.connectors.http import HttpPolicy, mount_policy, translate_exception

    try:
        found = discover(checker.name, conn)
    except PmoSyncError as exc:
        _refused(
            checker,
            exc,
            conn.token,
            "Airtable personal access token",
            "create a token at https://airtable.com/create/tokens with scopes "
            "data.records:read, data.records:write and schema.bases:read and access to "
            f"base {conn.base_id}",
        )
        return
    checker.add("credentials", "ok", f"token accepted; base {conn.base_id} readable")
    mappings = loaded.mappings_for(checker.name)
    api = Api(
        conn.token.resolve("token", connection=checker.name),
        endpoint_url=conn.endpoint_url.rstrip("/"),
        retry_strategy=None,
    )
    mount_policy(
        api.session,
        HttpPolicy(max_attempts=2),
        ca_bundle=str(conn.ca_bundle) if conn.ca_bundle else None,
    )
    try:
        who = api.whoami()
        bases = {b.id: b.permission_level for b in api.bases(force=True)}
    except Exception as exc:  # noqa: BLE001 - reported as a finding, never raised
        error = translate_exception(exc, connection=checker.name, what="reading token scopes")
        checker.add("permissions", "fail", str(error), "see the credentials finding")
        return
    finally:
        api.session.close()
    scopes = set(who.get("scopes") or [])
    level = bases.get(conn.base_id)
    needs_write = any(_writes(t, e) for _, t, e in _mapped(mappings))
    wanted = {"data.records:read", "schema.bases:read"} | (
        {"data.records:write"} if needs_write else set()
    )
    missing = sorted(wanted - scopes)
    if missing:
        checker.add(
            "permissions",
            "fail",
            f"the token lacks scope(s) {', '.join(missing)}"
            + (" (the mappings write to this base)" if "data.records:write" in missing else ""),
            "edit the token at https://airtable.com/create/tokens and add "
            + ", ".join(missing)
            + "; or make the written fields direction: pull",
        )
    elif needs_write and level in ("read", "comment", "none"):
        checker.add(
            "permissions",
            "fail",
            f"the token's user has {level!r} access to base {conn.base_id}; the mappings write",
            "share the base with the token's user as Editor (or Creator)",
        )
    else:
        checker.add(
            "permissions",
            "ok",
            f"scopes {', '.join(sorted(wanted))}; base access {level or 'unknown'}",
        )
    tables = {t["id"]: t for t in found["tables"]} | {t["name"]: t for t in found["tables"]}
    problems = 0
    for mapping, entity_type, entity in _mapped(mappings):
        if not entity.table:
            continue
        table = tables.get(entity.table)
        if table is None:
            problems += 1
            checker.add(
                "fields",
                "fail",
                f"{_where(mapping, entity_type)}: table {entity.table!r} is not in the base",
                f"fix the table in the mapping (`pmo-sync discover {checker.name}` lists "
                "them) or restore the table in Airtable",
            )
            continue
        fields = {f["id"]: f for f in table["fields"]} | {f["name"]: f for f in table["fields"]}
        refs = [(name, fm.field, fm.values) for name, fm in entity.fields.items()]
        if entity.id_field:
            refs.append(("id_field", entity.id_field, None))
        for name, ref, values in refs:
            field = fields.get(ref)
            if field is None:
                problems += 1
                checker.add(
                    "fields",
                    "fail",
                    f"{_where(mapping, entity_type, name)}: field {ref!r} is no longer in table "
                    f"{table['name']} (deleted or renamed)",
                    f"restore the field in Airtable, or point the mapping at its new id "
                    f"(`pmo-sync discover {checker.name}`), or remove the line",
                )
                continue
            options = field.get("options")
            if values and options:
                absent = [v for v in values if str(v) not in options]
                if absent:
                    problems += 1
                    checker.add(
                        "fields",
                        "fail",
                        f"{_where(mapping, entity_type, name)}: option(s) "
                        f"{', '.join(map(repr, absent))} not in {table['name']}.{field['name']} "
                        f"(has {', '.join(options)})",
                        "add the option in Airtable or fix `values:` in the mapping",
                    )
    if not problems:
        checker.add("fields", "ok", "every mapped table, field and option exists")


JIRA_READ = ("BROWSE_PROJECTS",)


def check_jira(checker: Checker, loaded: LoadedConfig, conn: Any) -> None:
    from pmosync.connectors.jira.client import JiraClient
    from pmosync.connectors.jira.fields import FieldCatalog

    try:
        client = JiraClient(checker.name, conn)
    except PmoSyncError as exc:
        _refused(checker, exc, conn.token, "Jira token", _jira_token_fix(conn))
        return
    try:
        try:
            info = client.server_info()
            me = client.myself()
        except PmoSyncError as exc:
            _refused(checker, exc, conn.token, "Jira token", _jira_token_fix(conn))
            return
        checker.add(
            "credentials", "ok", f"signed in as {me.get('displayName')} ({info.deployment})"
        )
        mappings = loaded.mappings_for(checker.name)
        mapped = _mapped(mappings)
        projects = {p.get("key") for p in client.get_json("project", what="GET project") or []}
        wanted: dict[str, set[str]] = {}
        problems = 0
        for mapping, entity_type, entity in mapped:
            for key in entity.projects or []:
                if key not in projects:
                    problems += 1
                    checker.add(
                        "fields",
                        "fail",
                        f"{_where(mapping, entity_type)}: project {key} is not visible to "
                        f"{me.get('displayName')} (no such project, or no Browse permission)",
                        "fix the project key, or add the user to the project's Browse role",
                    )
                need = wanted.setdefault(key, set(JIRA_READ))
                if entity.writable(entity_type):
                    need.add("EDIT_ISSUES")
                    if "status" in entity.writable(entity_type):
                        need.add("TRANSITION_ISSUES")
                if entity.create_missing:
                    need.add("CREATE_ISSUES")
                if entity.remote_links or entity_type is EntityType.DEPENDENCY:
                    need.add("LINK_ISSUES")
        if not wanted:
            wanted[""] = set(JIRA_READ)
        lacking: list[str] = []
        for key, perms in sorted(wanted.items()):
            params = {"permissions": ",".join(sorted(perms))}
            if key and key in projects:
                params["projectKey"] = key
            answer = client.get_json("mypermissions", params, what="GET mypermissions") or {}
            granted = answer.get("permissions") or {}
            for perm in sorted(perms):
                if not (granted.get(perm) or {}).get("havePermission"):
                    lacking.append(f"{perm} on {key or 'the site'}")
        if lacking:
            checker.add(
                "permissions",
                "fail",
                f"{me.get('displayName')} lacks {', '.join(lacking)} (the mappings read and write "
                "there)",
                "grant the user those permissions in the project's permission scheme (or a "
                "role that has them), or make the written fields direction: pull",
            )
        else:
            checker.add("permissions", "ok", "every mapped read and write is permitted")
        catalog = FieldCatalog(client.fields(), connection=checker.name, instance=conn.url)
        statuses = {
            str(s.get("name")).lower() for s in client.get_json("status", what="GET status") or []
        }
        cache: dict[tuple[str, str], dict[str, set[str]]] = {}
        for mapping, entity_type, entity in mapped:
            for name, fm in entity.fields.items():
                if fm.field.startswith("property:"):
                    continue  # an entity property: created on first write
                found = catalog.find(fm.field)
                if not found:
                    problems += 1
                    checker.add(
                        "fields",
                        "fail",
                        f"{_where(mapping, entity_type, name)}: Jira field {fm.field!r} does not "
                        f"exist on {conn.url} (deleted or renamed)",
                        f"restore the field, or name the new one (`pmo-sync discover "
                        f"{checker.name}` lists fields)",
                    )
                elif fm.values and found[0].id != "status":
                    options = _jira_options(client, entity, entity_type, found[0].id, cache)
                    absent = [v for v in fm.values if options and str(v) not in options]
                    if absent:
                        problems += 1
                        checker.add(
                            "fields",
                            "fail",
                            f"{_where(mapping, entity_type, name)}: option(s) "
                            f"{', '.join(map(repr, absent))} are not offered by {fm.field} "
                            f"(has {', '.join(sorted(options))})",
                            "add the option to the field's context in Jira or fix `values:`",
                        )
                elif fm.values and found[0].id == "status":
                    absent = [v for v in fm.values if str(v).lower() not in statuses]
                    if absent:
                        problems += 1
                        checker.add(
                            "fields",
                            "fail",
                            f"{_where(mapping, entity_type, name)}: status(es) "
                            f"{', '.join(map(repr, absent))} do not exist on {conn.url}",
                            "fix `values:` in the mapping (discover lists the statuses)",
                        )
        if not problems:
            checker.add("fields", "ok", "every mapped project, field and status exists")
    except PmoSyncError as exc:
        checker.add("fields", "fail", str(exc), "see the message")
    finally:
        client.close()


def _jira_options(
    client: Any,
    entity: EntityMapping,
    entity_type: EntityType,
    field_id: str,
    cache: dict[tuple[str, str], dict[str, set[str]]],
) -> set[str]:
    """The options a select field offers when creating the mapped issue types (createmeta of
    the first mapped project; empty when Jira does not list them, so nothing is claimed)."""
    if not entity.projects:
        return set()
    key = entity.projects[0]
    wanted = {t.lower() for t in entity.issue_types or []}
    out: set[str] = set()
    types = client.get_json(f"issue/createmeta/{key}/issuetypes", what="GET createmeta") or {}
    for itype in types.get("issueTypes") or types.get("values") or []:
        if wanted and str(itype.get("name", "")).lower() not in wanted:
            continue
        type_id = str(itype.get("id"))
        fields = cache.get((key, type_id))
        if fields is None:
            meta = (
                client.get_json(
                    f"issue/createmeta/{key}/issuetypes/{type_id}",
                    {"maxResults": 200},
                    what="GET createmeta fields",
                )
                or {}
            )
            fields = {
                str(f.get("fieldId")): {
                    str(v.get("value") or v.get("name")) for v in f.get("allowedValues") or []
                }
                for f in meta.get("fields") or meta.get("values") or []
            }
            cache[(key, type_id)] = fields
        out |= fields.get(field_id, set())
    return out


def _jira_token_fix(conn: Any) -> str:
    if conn.email:
        return (
            f"create an API token for {conn.email} at "
            "https://id.atlassian.com/manage-profile/security/api-tokens"
        )
    return "create a Personal Access Token in Jira (Profile > Personal Access Tokens)"


def check_pwa(checker: Checker, loaded: LoadedConfig, conn: Any) -> None:
    from pmosync.connectors.msproject.discover import discover

    try:
        found = discover(checker.name, conn)
    except PmoSyncError as exc:
        fix = (
            f"run `pmo-sync auth login {checker.name}` where you can open a browser"
            if conn.auth == "device_code"
            else "check the client secret / password and the app registration's consent"
        )
        ref = conn.client_secret if conn.auth == "client_credentials" else None
        _refused(checker, exc, ref, "Project Server credentials", fix)
        return
    checker.add("credentials", "ok", f"signed in; {len(found['projects'])} project(s) visible")
    known = {f["name"] for f in found["custom_fields"]} | {
        f["internal_name"] for f in found["custom_fields"]
    }
    known |= set(found["task_fields"])
    for names in found["writable"].values():
        known |= set(names)
    writes = any(_writes(t, e) for _, t, e in _mapped(loaded.mappings_for(checker.name)))
    checker.add(
        "permissions",
        "warn" if writes else "ok",
        "Project Server has no API to ask for permissions; reading works"
        + ("; writing is proven by the first sync's check-out" if writes else ""),
        "give the account the Project Manager role on the mapped projects" if writes else "",
    )
    custom = {f["name"].lower(): f for f in found["custom_fields"]} | {
        f["internal_name"].lower(): f for f in found["custom_fields"]
    }
    problems = 0
    for mapping, entity_type, entity in _mapped(loaded.mappings_for(checker.name)):
        for name, fm in entity.fields.items():
            where = _where(mapping, entity_type, name)
            field = custom.get(fm.field.lower())
            if field is None:
                lowered = {k.lower() for k in known}
                # OData properties are identifiers (Start, ProjectIdentifier); a name with a
                # space or punctuation can only be an enterprise custom field
                if fm.field.lower() in lowered or re.fullmatch(r"[A-Z][A-Za-z0-9]*", fm.field):
                    continue
                problems += 1
                checker.add(
                    "fields",
                    "fail",
                    f"{where}: {fm.field!r} is neither a task/project field nor an enterprise "
                    "custom field of this site (deleted or renamed?)",
                    f"restore the custom field in PWA settings, or fix the mapping "
                    f"(`pmo-sync discover {checker.name}` lists them)",
                )
                continue
            lookup = [str(v) for v in field.get("values") or []]
            absent = [str(v) for v in (fm.values or {}) if lookup and str(v) not in lookup]
            if absent:
                problems += 1
                checker.add(
                    "fields",
                    "fail",
                    f"{where}: value(s) {', '.join(map(repr, absent))} are not in the lookup "
                    f"table of {field['name']} (has {', '.join(lookup)})",
                    "add the value to the lookup table in PWA settings or fix `values:`",
                )
    if not problems:
        checker.add("fields", "ok", "every mapped custom field and lookup value exists")


def _refused(
    checker: Checker, exc: PmoSyncError, ref: SecretRef | None, what: str, fix: str
) -> None:
    if isinstance(exc, AuthError):
        where = f"; it comes from {ref.describe()}" if ref is not None else ""
        checker.add("credentials", "fail", f"{exc}", f"{fix}{where}", kind="auth")
    elif isinstance(exc, RetriableError):
        checker.add("credentials", "fail", str(exc), "the tool did not answer; try again later")
    elif isinstance(exc, ConfigError):
        checker.add("credentials", "fail", str(exc), fix)
    else:
        checker.add("credentials", "fail", str(exc), "see the message")


TOOL_CHECKS: dict[str, Callable[[Checker, LoadedConfig, Any], None]] = {
    "airtable": check_airtable,
    "jira": check_jira,
    "pwa": check_pwa,
}


def _secrets(conn: Any) -> list[tuple[SecretRef, str]]:
    kind = conn.kind
    if kind in ("airtable", "jira"):
        return [(conn.token, "token")]
    if kind == "pwa":
        if conn.auth == "client_credentials":
            return [(conn.client_secret, "client secret")]
        if conn.auth == "ntlm":
            return [(conn.password, "password")]
    return []


def _url(conn: Any) -> str | None:
    return (
        getattr(conn, "endpoint_url", None)
        or getattr(conn, "url", None)
        or getattr(conn, "site_url", None)
    )


def check_connection(loaded: LoadedConfig, name: str) -> list[Finding]:
    conn = loaded.config.connections[name]
    checker = Checker(name)
    for ref, what in _secrets(conn):
        check_secret(checker, ref, what)
    if conn.kind == "pwa" and conn.auth == "device_code":
        cache = conn.token_cache or Path.home() / ".cache" / "pmo-sync" / f"{name}.json"
        if not Path(cache).exists():
            checker.add(
                "secrets",
                "fail",
                f"no signed-in token cache at {cache}",
                f"run `pmo-sync auth login {name}` once where you can open a browser",
            )
    url = _url(conn)
    if url:
        check_network(checker, url, getattr(conn, "ca_bundle", None))
    tool = TOOL_CHECKS.get(conn.kind)
    if tool is None:
        checker.add("credentials", "warn", f"doctor does not check {conn.kind} connections yet")
    elif checker.failed("secrets", "reachable", "tls"):
        for check in ("credentials", "permissions", "fields"):
            checker.add(check, "skip", "not checked: fix the problems above first")
    else:
        tool(checker, loaded, conn)
        if checker.failed("credentials"):
            for check in ("permissions", "fields"):
                checker.add(check, "skip", "not checked: the credentials were refused")
    return checker.findings


def check_notify(loaded: LoadedConfig) -> list[Finding]:
    """The notify section's secrets (nothing is sent)."""
    notify = loaded.config.notify
    checker = Checker("notify")
    for i, hook in enumerate(notify.webhooks):
        check_secret(checker, hook.url, f"webhooks[{i}] url")
    if notify.email is not None and notify.email.password is not None:
        check_secret(checker, notify.email.password, "e-mail password")
    return checker.findings


def run_doctor(loaded: LoadedConfig, only: list[str] | None = None) -> list[Finding]:
    names = list(loaded.config.connections)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ConfigError(f"unknown connection(s): {', '.join(unknown)}")
        names = [n for n in names if n in only]
    findings: list[Finding] = []
    mapped = {m.connection for m in loaded.mappings.values()}
    for name in names:
        findings += check_connection(loaded, name)
        if name not in mapped:
            findings.append(
                Finding(
                    name,
                    "fields",
                    "warn",
                    "no team maps this connection",
                    "add a team under teams: naming it (or remove it)",
                )
            )
    if not only:
        findings += check_notify(loaded)
    return findings


MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def render(findings: list[Finding]) -> str:
    lines: list[str] = []
    current = None
    for f in findings:
        if f.connection != current:
            current = f.connection
            lines.append(("" if not lines else "\n") + f"{current}:")
        lines.append(f"  [{MARK[f.status]}] {f.check:<11} {f.message}")
        if f.fix and f.status in ("fail", "warn"):
            lines.append(f"         fix: {f.fix}")
    failed = [f for f in findings if f.status == "fail"]
    lines.append("")
    lines.append(
        f"{len(failed)} problem(s) to fix" if failed else "everything checked is ready to sync"
    )
    return "\n".join(lines)


def only_credentials(findings: list[Finding]) -> bool:
    """Every failure is a missing, wrong or expired credential (the CLI's exit 3)."""
    failed = [f for f in findings if f.status == "fail"]
    return bool(failed) and all(f.kind == "auth" for f in failed)
