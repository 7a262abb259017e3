"""`pmo-sync sandbox up` as a user runs it: a real process, stopped by a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pyairtable import Api

from pmosync.config.loader import load_config


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_up_serves_until_signalled(tmp_path: Path, sig: signal.Signals) -> None:
    directory = tmp_path / "sb"
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pmosync.cli",
            "sandbox",
            "up",
            "--scenario",
            "airtable",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        info_path = directory / "sandbox.json"
        deadline = time.monotonic() + 60
        while not info_path.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole, but let the process reach its wait
        info = json.loads(info_path.read_text())
        service = info["services"]["pmo_airtable"]
        assert service["kind"] == "airtable" and service["url"].startswith("https://127.0.0.1:")
        # someone else's client, using only what sandbox.json says
        api = Api(service["credentials"]["token"], endpoint_url=service["url"], retry_strategy=None)
        api.session.verify = info["ca_bundle"]
        tables = api.base(service["credentials"]["base_id"]).schema().tables
        assert {t.name for t in tables} >= {"Projects", "Milestones", "Risks"}
        counters = requests.get(service["admin"] + "/counters", verify=info["ca_bundle"]).json()
        assert counters["total"] >= 1
        # the written config is valid and its secrets are files with safe permissions
        loaded = load_config(directory / "pmo-sync.yaml")
        assert "pmo_airtable" in loaded.config.connections
        secret = directory / "secrets" / "pmo_airtable.token"
        assert secret.stat().st_mode & 0o077 == 0
        assert service["credentials"]["token"] not in (directory / "pmo-sync.yaml").read_text()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "sandbox stopped" in out
        with pytest.raises(requests.ConnectionError):
            requests.get(service["admin"] + "/counters", verify=info["ca_bundle"], timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
