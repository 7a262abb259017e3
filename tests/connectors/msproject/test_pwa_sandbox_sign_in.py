"""The sandbox (and so `pmo-sync demo`) signs in to Project Server the only way Project Online
allows: a delegated user, device code once, then silent refresh (issue #9, break 2)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import msal
import pytest
import requests

from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.loader import load_config
from pmosync.sandbox.entra import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EntraEmulator,
    msal_http_client,
)
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.pwa import PwaEmulator
from pmosync.sandbox.scenarios import pwa
from pmosync.sync.engine import SyncOptions, run_sync

NAME = "plans_pwa"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def test_the_sandbox_config_signs_in_delegated_to_a_site_that_refuses_app_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scenario = Scenario(services=pwa.services(projects=1, tasks_per_project=3))
    with Sandbox(scenario, tmp_path / "sb") as sandbox:
        site: PwaEmulator = sandbox.services[NAME].emulator  # type: ignore[assignment]
        entra: EntraEmulator = sandbox.services[f"{NAME}_entra"].emulator  # type: ignore[assignment]
        info = json.loads((sandbox.directory / "sandbox.json").read_text())
        site_url = info["services"][NAME]["credentials"]["site_url"]

        # The site answers a secret-based app-only token as SharePoint Online does.
        app = msal.ConfidentialClientApplication(
            DEFAULT_CLIENT_ID,
            client_credential=DEFAULT_CLIENT_SECRET,
            authority=info["services"][f"{NAME}_entra"]["credentials"]["authority"],
            instance_discovery=False,
            http_client=msal_http_client(Path(info["ca_bundle"])),
        )
        origin = sandbox.services[NAME].url
        app_token = app.acquire_token_for_client([f"{origin}/.default"])["access_token"]
        refused = requests.get(
            f"{site_url}/_api/ProjectServer/Projects",
            headers={"Authorization": f"Bearer {app_token}", "Accept": "application/json"},
            verify=info["ca_bundle"],
            timeout=10,
        )
        assert refused.status_code == 401
        assert refused.json()["error_description"] == "Unsupported app only token."

        # The config the sandbox wrote (the one a user copies) is delegated, with no secret.
        loaded = load_config(sandbox.config_path)
        conn = loaded.config.connections[NAME]
        assert isinstance(conn, PwaConnection)
        assert conn.auth == "device_code" and conn.client_secret_file is None
        assert not (sandbox.directory / "secrets" / f"{NAME}.client_secret").exists()
        assert conn.token_cache is not None
        cache = sandbox.directory / conn.token_cache
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        grants_after_sign_in = entra.grant_counts()
        assert grants_after_sign_in.get(DEVICE_CODE, 0) >= 1

        report = run_sync(loaded, SyncOptions(full=True))
        assert report.status == "ok", report.to_dict()
        assert report.connections[NAME].status == "ok"
        assert report.connections[NAME].pulled > len(site.projects()) > 0
        # the run used the cached sign-in: no new device code, no app-only token
        after = entra.grant_counts()
        assert after.get(DEVICE_CODE) == grants_after_sign_in.get(DEVICE_CODE)
        assert after.get("client_credentials", 0) == 1  # only this test's own probe above

        secrets = [
            str(item["secret"])
            for kind in ("AccessToken", "RefreshToken")
            for item in json.loads(cache.read_text()).get(kind, {}).values()
        ]
        assert secrets and not any(secret in caplog.text for secret in secrets)
