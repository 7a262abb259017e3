"""`pmo-sync demo`'s three tools receive the consolidated status, Jira included, read back
through the real clients (jira, pyairtable): project properties and the status epic in Jira,
project and programme fields plus a status history in Airtable, custom fields (RAG and status
line computed from all three tools) in Project Server. A second run writes nothing and adds no
history row."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jira import JIRA
from pyairtable import Api
from ruamel.yaml import YAML
from sqlalchemy import select

from pmosync.config.loader import load_config
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sync import models
from pmosync.sync.engine import SyncOptions, run_sync
from pmosync.sync.store import Store

TODAY = date(2026, 11, 20)
RAG_NAMES = {"G": "Green", "A": "Amber", "R": "Red"}


def _entities(url: str, entity_type: str) -> dict[str, dict[str, Any]]:
    store = Store.open(url)
    try:
        with store.sessions() as session:
            rows = session.scalars(
                select(models.Entity).where(models.Entity.entity_type == entity_type)
            )
            return {row.id: row.values for row in rows}
    finally:
        store.close()


def test_demo_tools_hold_the_consolidated_status_and_a_rerun_writes_nothing(
    tmp_path: Path,
) -> None:
    with Sandbox("demo", tmp_path / "sb", today=TODAY) as sandbox:
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        url = f"sqlite:///{tmp_path / 'store.db'}"
        config["store"]["url"] = url
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        loaded = load_config(sandbox.config_path)
        first = run_sync(loaded, SyncOptions(full=True, today=TODAY))
        assert first.status == "ok", first.to_dict()
        assert first.connections["delivery_jira"].writes_applied > 0
        projects = {v.get("code"): v for v in _entities(url, "project").values()}
        programmes = _entities(url, "programme")
        assert len(programmes) == 3 and all(p.get("rag_computed") for p in programmes.values())
        # each programme is fed by every tool that keeps it: the Airtable register table, a
        # Jira project category and Project Server's "Programme" lookup, matched by name
        store = Store.open(url)
        try:
            with store.sessions() as session:
                held = session.execute(
                    select(models.Link.canonical_id, models.Link.connection).where(
                        models.Link.entity_type == "programme"
                    )
                ).all()
        finally:
            store.close()
        by_programme: dict[str, set[str]] = {}
        for canonical_id, connection in held:
            by_programme.setdefault(canonical_id, set()).add(connection)
        # ...and Digital Workplace also by Planner Premium, where its newer plans live
        assert by_programme == {
            pid: {"pmo_airtable", "delivery_jira", "plans_pwa"}
            | ({"plans_planner"} if values.get("name") == "Digital Workplace" else set())
            for pid, values in programmes.items()
        }
        assert all(p.get("programme") in programmes for p in projects.values())
        bundle = str(sandbox.ca.bundle_path)

        # -- Jira: a project property per project, RAG and status line on its status epic
        jira_service = sandbox.services["delivery_jira"]
        credentials = jira_service.emulator.credentials  # type: ignore[attr-defined]
        client = JIRA(
            server=jira_service.url,
            basic_auth=(credentials["email"], credentials["token"]),
            options={"verify": bundle},
            get_server_info=False,
        )
        try:
            mapping = loaded.mappings["delivery_jira"].entities
            epics = mapping[next(iter(k for k in mapping if k.value == "project"))].options[
                "status_issues"
            ]
            rag_field = next(f["id"] for f in client.fields() if f["name"] == "PMO RAG")
            status_field = next(f["id"] for f in client.fields() if f["name"] == "PMO Status")
            for key, epic_key in epics.items():
                project = projects[key]
                prop = client._get_json(f"project/{key}/properties/pmo-sync.status")["value"]
                assert prop["forecast_finish"] == project["forecast_finish"], (key, prop)
                # fields with no value are never written (a blank is not news)
                assert prop.get("next_milestone") == project.get("next_milestone")
                assert prop["critical"] == project["critical"]
                assert prop.get("overdue_milestones") == project["overdue_milestones"]
                epic = client.issue(epic_key, fields=f"{rag_field},{status_field}")
                assert getattr(epic.fields, rag_field).value == RAG_NAMES[project["rag_computed"]]
                assert getattr(epic.fields, status_field) == project["pmo_status"]
        finally:
            client.close()

        # -- Airtable: projects and programmes carry it, the history has a row per project
        airtable = sandbox.services["pmo_airtable"]
        token = airtable.spec.credentials["token"]
        # the test's own reads would eat the base's 5 requests/s the next sync needs: they
        # run with the emulator's limiter off, the syncs with it on
        limiter: Any = airtable.emulator
        limiter.configure({"rate_limit_enabled": False})
        api = Api(token, endpoint_url=airtable.url.rstrip("/"))
        api.session.verify = bundle
        base = airtable_pmo.BASE_ID
        rows = {r["fields"]["Code"]: r["fields"] for r in api.table(base, "Programmes").all()}
        by_code = {p["code"]: p for p in programmes.values()}
        for code, fields in rows.items():
            assert fields["PMO RAG"] == RAG_NAMES[by_code[code]["rag_computed"]]
            assert fields["PMO status"] == by_code[code]["pmo_status"]
            assert fields["RAID"] == by_code[code]["raid_summary"]
        register = {r["fields"]["Code"]: r["fields"] for r in api.table(base, "Projects").all()}
        for code, fields in register.items():
            assert fields["PMO RAG"] == RAG_NAMES[projects[code]["rag_computed"]], code
            assert fields.get("Programme"), code  # every project sits in a programme
        history = api.table(base, "Status history").all()
        assert len(history) == len(register)  # one row per project on the first run
        assert {len(r["fields"]["Project"]) for r in history} == {1}

        # -- Project Server: the project custom fields, RAG computed from all three tools
        pwa: Any = sandbox.services["plans_pwa"].emulator
        by_name = {fields.get("Name"): fields for fields in register.values()}
        for project in pwa.projects():
            status = pwa.custom_field_value(project["Id"], "PMO Status")
            assert status and status == next(
                p["pmo_status"] for p in projects.values() if p.get("name") == project["Name"]
            )
            # the schedule's planned finish (authority) has passed for every seeded plan
            rag = pwa.custom_field_value(project["Id"], "PMO RAG")
            assert rag == ["Red"], (project["Name"], rag, status)  # a lookup: list of entries
            entry = by_name[project["Name"]]
            overdue = entry.get("Overdue milestones", 0)
            assert "planned finish" in status and f"{overdue} milestones overdue" in status
            assert entry["Next milestone"] in status

        limiter.configure({"rate_limit_enabled": True})
        second = run_sync(loaded, SyncOptions(today=TODAY))
        assert second.status == "ok" and second.writes_applied == 0, second.plan
        limiter.configure({"rate_limit_enabled": False})
        assert len(api.table(base, "Status history").all()) == len(history)
