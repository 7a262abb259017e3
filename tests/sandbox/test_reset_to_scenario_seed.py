"""`POST /_admin/reset` returns each emulator to the seed its scenario started with: the demo
aligns Airtable's project codes with the other tools and adds Jira fields after the emulators
are built, and a reset must keep those (it used to go back to the bare builder seed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios.airtable_pmo import BASE_ID
from pmosync.sandbox.scenarios.cross_tool import DEPENDS_ON


def test_reset_restores_the_scenario_seed_not_the_builder_seed(tmp_path: Path) -> None:
    with Sandbox("demo", tmp_path) as running:
        info = json.loads((tmp_path / "sandbox.json").read_text())
        ca = info["ca_bundle"]
        airtable = info["services"]["pmo_airtable"]
        jira = info["services"]["delivery_jira"]

        def records() -> list[dict[str, Any]]:
            params = {"base": BASE_ID, "table": "Projects"}
            answer = requests.get(airtable["admin"] + "/airtable/records", params=params, verify=ca)
            return list(answer.json()["records"])

        def jira_fields() -> set[str]:
            auth = (jira["credentials"]["email"], jira["credentials"]["token"])
            answer = requests.get(jira["url"] + "/rest/api/2/field", auth=auth, verify=ca)
            return {f["name"] for f in answer.json()}

        seeded, fields = records(), jira_fields()
        assert DEPENDS_ON in fields  # added by the scenario after the emulator was built
        codes = {r["fields"]["Code"] for r in seeded}
        assert "P001" in codes  # aligned with Project Server by the scenario
        emulator: Any = running.services["pmo_airtable"].emulator
        emulator.edit_record(BASE_ID, "Projects", seeded[0]["id"], {"Name": "changed"})
        assert records() != seeded
        for service in info["services"].values():
            assert requests.post(service["admin"] + "/reset", verify=ca).json() == {"ok": True}
        assert records() == seeded
        assert jira_fields() == fields
        # and a second reset after more changes lands on the same seed again
        emulator.edit_record(BASE_ID, "Projects", seeded[1]["id"], {"Code": "X"})
        requests.post(airtable["admin"] + "/reset", verify=ca)
        assert records() == seeded
