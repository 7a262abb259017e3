"""Serve a Jira emulator over loopback https for tests: ``with served_jira("cloud", tmp) as sj``.

``sj.client()`` builds the real ``jira.JIRA`` client the way a connector would (basic auth with
e-mail + API token on Cloud, ``token_auth`` PAT on DC, the sandbox CA, retries off).
Callers must clear ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (requests lets them override
``verify``); :func:`served_jira` does it for as long as the context is open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.jira.emulator import JiraEmulator
from pmosync.sandbox.jira.seed import SeedSpec
from pmosync.sandbox.server import ServedApp


@dataclass
class ServedJira:
    emulator: JiraEmulator
    url: str
    ca_bundle: str

    def client(self, *, api: str = "2", auth: Any = None, **options: Any) -> Any:
        from jira import JIRA

        opts = {"verify": self.ca_bundle, "rest_api_version": api, **options}
        creds = self.emulator.credentials
        if auth is None:
            auth = (
                {"basic_auth": (creds["email"], creds["token"])}
                if self.emulator.cloud
                else {"token_auth": creds["pat"]}
            )
        return JIRA(server=self.url, options=opts, max_retries=0, get_server_info=True, **auth)

    def session(self) -> Any:
        """A plain requests session with the connector user's credentials (raw wire checks)."""
        import requests

        session = requests.Session()
        session.verify = self.ca_bundle
        creds = self.emulator.credentials
        if self.emulator.cloud:
            session.auth = (creds["email"], creds["token"])
        else:
            session.headers["Authorization"] = f"Bearer {creds['pat']}"
        return session


@contextmanager
def served_jira(
    deployment: str,
    directory: Path,
    seed: SeedSpec | None = None,
    *,
    context_path: str = "",
    knobs: dict[str, Any] | None = None,
) -> Iterator[ServedJira]:
    """``ServedJira.url`` is the site URL (context path included); ``knobs`` change the
    emulator's defaults (a test that turns the search lag off says why)."""
    saved = {
        k: os.environ.pop(k) for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if k in os.environ
    }
    try:
        emulator = JiraEmulator(deployment=deployment, seed=seed, context_path=context_path)
        emulator.configure(knobs or {})
        ca = SandboxCA(directory)
        with ServedApp(emulator.build_app(), ssl_context=ca.server_context()) as served:
            yield ServedJira(emulator, served.url + emulator.context_path, str(ca.bundle_path))
    finally:
        os.environ.update(saved)
