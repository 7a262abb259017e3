"""`pmo-sync auth login` and `pmo-sync discover` for a Planner Premium connection."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from pmosync.cli import main
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import planner

NAME = "plans_planner"


def test_sign_in_then_discover(tmp_path: Path) -> None:
    with Sandbox(Scenario(services=planner.services(NAME)), tmp_path / "sb") as sandbox:
        cache = sandbox.directory / "tokens" / f"{NAME}.msal.json"
        cache.unlink()
        config = str(sandbox.config_path)
        runner = CliRunner()
        # no sign-in: discover says what to run instead of waiting for a person
        missing = runner.invoke(main, ["discover", NAME, "--config", config, "--json"])
        assert missing.exit_code != 0 and f"pmo-sync auth login {NAME}" in missing.output

        login = runner.invoke(main, ["auth", "login", NAME, "--config", config])
        assert login.exit_code == 0, login.output
        assert "signed in as pmo.lead@" in login.output
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600

        found = runner.invoke(main, ["discover", NAME, "--config", config, "--json"])
        assert found.exit_code == 0, found.output
        document = json.loads(found.stdout)
        assert {p["name"] for p in document["projects"]} == {"Intranet Refresh", "Teams Telephony"}
        assert [p["name"] for p in document["programmes"]] == ["Digital Workplace"]
        custom = {c["name"] for c in document["custom_project_columns"]}
        assert {"pmo_projectcode", "pmo_rag", "pmo_statusline", "pmo_forecastfinish"} <= custom
        assert document["link_types"] == {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
        text = runner.invoke(main, ["discover", NAME, "--config", config])
        assert "pmo_rag" in text.output and "Teams Telephony" in text.output
