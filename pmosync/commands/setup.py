"""Commands: init, doctor, config validate | schema, discover, auth login (registered by
importing this module from pmosync.cli). Getting a configuration right, before cron runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pmosync.cli import (
    DISCOVERERS,
    EXIT_AUTH,
    EXIT_CONFIG,
    _config_option,
    config,
    echo_json,
    handle_errors,
    json_option,
    main,
    say,
)


@config.command("validate")
@_config_option
@json_option
@handle_errors
def config_validate(config_path: Path, as_json: bool) -> None:
    """Validate pmo-sync.yaml and every team mapping; list every problem with file:line.

    This checks the files only; `pmo-sync doctor` also checks secrets, access and fields.
    """
    from pmosync.config.loader import load_config
    from pmosync.errors import ConfigError

    try:
        loaded = load_config(config_path)
    except ConfigError as exc:
        if not as_json:
            raise
        echo_json(
            {"config": str(config_path), "ok": False, "error": str(exc), "problems": exc.problems}
        )
        sys.exit(EXIT_CONFIG)
    conns = loaded.config.connections
    if as_json:
        echo_json(
            {
                "config": str(config_path),
                "ok": True,
                "connections": {name: c.kind for name, c in conns.items()},
                "teams": {
                    name: {"connection": t.connection, "mapping": str(t.mapping)}
                    for name, t in loaded.config.teams.items()
                },
            }
        )
        return
    say(f"{config_path}: ok ({len(conns)} connection(s), {len(loaded.mappings)} team mapping(s))")


@config.command("schema")
@click.option(
    "--kind",
    type=click.Choice(["config", "mapping"]),
    default="config",
    show_default=True,
    help="pmo-sync.yaml (config) or a team mapping file (mapping).",
)
def config_schema(kind: str) -> None:
    """Print the JSON Schema (use it with your editor's YAML language server)."""
    from pmosync.config.mapping import TeamMapping
    from pmosync.config.models import PmoSyncConfig

    model = PmoSyncConfig if kind == "config" else TeamMapping
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(),
    }
    echo_json(schema)


@main.command()
@_config_option
@click.argument("connection")
@json_option
@handle_errors
def discover(config_path: Path, connection: str, as_json: bool) -> None:
    """List what a mapping can name in CONNECTION's tool.

    Airtable: tables and fields with their ids, types and select options. Jira: fields (id,
    name, type), statuses with categories, link types, issue types, projects. Project Server:
    projects, enterprise custom fields with lookup values, task fields. Text by default (the
    same layout for every tool), JSON with --json.
    """
    from importlib import import_module

    from pmosync.config.loader import load_config
    from pmosync.setup.discover_text import render

    conn = load_config(config_path).connection(connection)
    if conn.kind not in DISCOVERERS:
        raise click.UsageError(f"discover does not support {conn.kind} connections yet")
    module = import_module(DISCOVERERS[conn.kind])
    found = module.discover(connection, conn)
    if as_json:
        echo_json(found)
    else:
        say(render(found, getattr(module, "render_text", None)))


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Where to write pmo-sync.yaml and teams/.",
)
@click.option(
    "--tool",
    "tools",
    multiple=True,
    type=click.Choice(["airtable", "jira", "pwa"]),
    help="A tool to connect (repeatable). Without it, init asks.",
)
@click.option("--airtable-base", help="Airtable base id (app…).")
@click.option("--airtable-url", default=None, help="Airtable API endpoint (default: the real one).")
@click.option("--jira-url", help="Jira site URL, e.g. https://acme.atlassian.net.")
@click.option("--jira-email", help="Jira Cloud: the API user's e-mail (omit for a DC PAT).")
@click.option(
    "--jira-project", "jira_projects", multiple=True, help="Jira project key (repeatable)."
)
@click.option("--pwa-url", help="Project Server / Online PWA site URL.")
@click.option("--pwa-client-id", help="Entra app registration id (Project Online).")
@click.option("--pwa-tenant", default="organizations", show_default=True, help="Entra tenant.")
@click.option(
    "--token-env",
    "token_envs",
    multiple=True,
    metavar="TOOL=VAR",
    help="Environment variable holding a tool's secret, e.g. jira=JIRA_TOKEN (defaults: "
    "AIRTABLE_TOKEN, JIRA_TOKEN, PWA_CLIENT_SECRET).",
)
@click.option("--ca-bundle", type=click.Path(path_type=Path), help="Extra CA bundle (PEM).")
@click.option(
    "--discover/--no-discover",
    default=True,
    show_default=True,
    help="Fill the mappings from the tools when their secrets are at hand.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@handle_errors
def init(
    directory: Path,
    tools: tuple[str, ...],
    airtable_base: str | None,
    airtable_url: str | None,
    jira_url: str | None,
    jira_email: str | None,
    jira_projects: tuple[str, ...],
    pwa_url: str | None,
    pwa_client_id: str | None,
    pwa_tenant: str,
    token_envs: tuple[str, ...],
    ca_bundle: Path | None,
    discover: bool,
    force: bool,
) -> None:
    """Write a commented pmo-sync.yaml and one team mapping per tool.

    Asks which tools to connect (or takes --tool and the tool's flags); where a tool's secret
    is in the environment, reads the tool (`discover`) to fill the mapping with real table,
    field and project names. Then run `pmo-sync doctor`.
    """
    from pmosync.setup.init import InitAnswers, ask_missing, write_setup

    envs = {}
    for item in token_envs:
        tool, _, var = item.partition("=")
        if not var:
            raise click.BadParameter(f"{item!r}: use TOOL=VAR", param_hint="--token-env")
        envs[tool.strip()] = var.strip()
    answers = InitAnswers(
        tools=list(tools),
        airtable_base=airtable_base,
        airtable_url=airtable_url,
        jira_url=jira_url,
        jira_email=jira_email,
        jira_projects=list(jira_projects),
        pwa_url=pwa_url,
        pwa_client_id=pwa_client_id,
        pwa_tenant=pwa_tenant,
        token_envs=envs,
        ca_bundle=ca_bundle,
    )
    if not tools:
        ask_missing(answers, prompt=click.prompt, confirm=click.confirm)
    result = write_setup(directory, answers, discover=discover, force=force)
    for path in result.written:
        say(f"wrote {path}")
    for note in result.notes:
        say(f"note: {note}")
    say(f"\nnext: pmo-sync doctor -c {result.config_path}")


@main.command()
@_config_option
@click.option("--connection", "only", multiple=True, help="Check only this connection.")
@json_option
@handle_errors
def doctor(config_path: Path, only: tuple[str, ...], as_json: bool) -> None:
    """Check every connection: secrets present, host reachable, TLS chain, credentials
    accepted, permissions for every mapped read and write, every mapped field and value.

    Each problem comes with the fix. Exit 0 when everything is ready, 3 when the only problems
    are credentials (missing, refused), 2 for anything else. Nothing is written to any tool.
    """
    from pmosync.config.loader import load_config
    from pmosync.setup.doctor import only_credentials, render, run_doctor

    loaded = load_config(config_path)
    findings = run_doctor(loaded, only=list(only) or None)
    if as_json:
        echo_json([f.to_dict() for f in findings])
    else:
        say(render(findings))
    if any(f.status == "fail" for f in findings):
        sys.exit(EXIT_AUTH if only_credentials(findings) else EXIT_CONFIG)


# -- auth ---------------------------------------------------------------------------------
@main.group()
def auth() -> None:
    """Sign-in for connections that need a person once (Project Online / Server via Entra)."""


@auth.command("login")
@_config_option
@click.argument("connection")
@handle_errors
def auth_login(config_path: Path, connection: str) -> None:
    """Sign in interactively (device code) and store the token cache for scheduled runs.

    Project Online only accepts delegated users: run this once where you can open a browser;
    cron then refreshes the token silently from the cache file (mode 0600) named by the
    connection's `token_cache`. For `auth: client_credentials` it checks the secret.
    """
    from pmosync.config.connections import PwaConnection
    from pmosync.config.loader import load_config
    from pmosync.connectors.msproject.auth import sign_in

    loaded = load_config(config_path)
    found = loaded.config.connections.get(connection)
    if getattr(found, "kind", None) == "planner":  # Planner Premium: the same msal sign-in
        conn = found.msal_settings()  # type: ignore[union-attr]
    else:
        conn = loaded.connection(connection, kind="pwa")
    assert isinstance(conn, PwaConnection)
    who = sign_in(connection, conn, prompt=lambda text: click.echo(text, err=True))
    click.echo(f"{connection}: signed in as {who}")
