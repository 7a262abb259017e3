"""`pmo-sync auth login` then an unattended sync, against the Entra and PWA emulators."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from pmosync.cli import EXIT_CONFIG, main
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import pwa


def test_device_code_login_then_cron_runs_silently(tmp_path: Path) -> None:
    services = pwa.services(
        projects=1,
        tasks_per_project=4,
        entra_knobs={"device_interval": 1, "auto_approve_after_polls": 1},
        sign_in=False,  # nobody has signed in yet: that is what this test does
    )
    with Sandbox(Scenario(services=services), tmp_path / "sb") as sandbox:
        config = str(sandbox.config_path)
        runner = CliRunner()
        # cron before anyone signed in: a clear instruction, not a hang on a device code
        early = runner.invoke(main, ["sync", "--config", config])
        assert early.exit_code in (2, 3), early.output
        assert "pmo-sync auth login plans_pwa" in early.output
        login = runner.invoke(main, ["auth", "login", "plans_pwa", "--config", config])
        assert login.exit_code == 0, login.output
        assert "signed in as" in login.output
        cache = sandbox.directory / "tokens" / "plans_pwa.msal.json"
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        entra = sandbox.services["plans_pwa_entra"].emulator
        before = entra.counters.total()
        synced = runner.invoke(main, ["sync", "--config", config, "--json"])
        assert synced.exit_code == 0, synced.output
        token_posts = {
            k: v for k, v in entra.counters.snapshot()["by_endpoint"].items() if "token" in k
        }
        assert entra.counters.total() - before <= 1, token_posts  # cached token, no new sign-in
        wrong = runner.invoke(main, ["auth", "login", "nope", "--config", config])
        assert wrong.exit_code == EXIT_CONFIG and "plans_pwa" in wrong.output


def test_auth_login_refuses_a_non_pwa_connection(tmp_path: Path) -> None:
    config = tmp_path / "pmo-sync.yaml"
    YAML().dump(
        {
            "connections": {
                "pmo": {"kind": "airtable", "base_id": "appABCDEFGHIJKLMN", "token_env": "X"}
            }
        },
        config.open("w"),
    )
    result = CliRunner().invoke(main, ["auth", "login", "pmo", "--config", str(config)])
    assert result.exit_code == EXIT_CONFIG and "no pwa connection named 'pmo'" in result.output
