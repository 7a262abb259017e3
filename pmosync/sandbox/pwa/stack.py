"""Entra + PWA emulators on loopback https, wired together, for tests and scripts.

``with pwa_stack(tmp_path, SeedSpec(page_size=5)) as stack:`` starts both servers with one
sandbox CA; ``stack.token()`` signs the default user in through msal's device flow (the Entra
emulator auto-approves) and ``stack.session()`` is a ``requests.Session`` that trusts the
sandbox CA (ignoring ``REQUESTS_CA_BUNDLE``) and sends the bearer token and an ``Accept`` header.
Connectors must not use this: they build their own msal app from the connection config.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msal
import requests

from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.entra import (
    DEFAULT_TENANT_ID,
    EntraClient,
    EntraEmulator,
    msal_http_client,
)
from pmosync.sandbox.pwa.emulator import PwaEmulator
from pmosync.sandbox.pwa.seed import SeedSpec
from pmosync.sandbox.server import ServedApp

PUBLIC_CLIENT_ID = "6a0f3c2d-8e1b-4f7a-9c5d-2b4e6f8a0c13"
ACCEPT = {
    "verbose": "application/json;odata=verbose",
    "minimal": "application/json;odata=minimalmetadata",
    "nometadata": "application/json;odata=nometadata",
    "json": "application/json",
}


@dataclass
class PwaStack:
    entra: EntraEmulator
    pwa: PwaEmulator
    entra_url: str
    pwa_url: str
    ca_bundle: Path
    tenant_id: str = DEFAULT_TENANT_ID
    client_id: str = PUBLIC_CLIENT_ID
    _app: Any = field(default=None, repr=False)

    @property
    def site_url(self) -> str:
        return self.pwa_url + self.pwa.site_path

    @property
    def api(self) -> str:
        return self.site_url + "/_api"

    def msal_app(self) -> msal.PublicClientApplication:
        if self._app is None:
            self._app = msal.PublicClientApplication(
                self.client_id,
                authority=f"{self.entra_url}/{self.tenant_id}",
                instance_discovery=False,
                http_client=msal_http_client(self.ca_bundle),
            )
        return self._app

    def token(self, scopes: list[str] | None = None) -> str:
        app = self.msal_app()
        scopes = scopes or [f"{self.pwa_url}/.default"]
        accounts = app.get_accounts()
        if accounts:
            cached = app.acquire_token_silent(scopes, account=accounts[0])
            if cached and "access_token" in cached:
                return str(cached["access_token"])
        knobs = dict(self.entra.knobs)
        self.entra.configure({"auto_approve_after_polls": 0, "device_interval": 0})
        try:
            flow = app.initiate_device_flow(scopes=scopes)
            result = app.acquire_token_by_device_flow(flow)
        finally:
            self.entra.configure(
                {k: knobs[k] for k in ("auto_approve_after_polls", "device_interval")}
            )
        if "access_token" not in result:
            raise RuntimeError(f"sign-in failed: {result.get('error')}")
        return str(result["access_token"])

    def session(self, dialect: str = "verbose", token: str | None = None) -> requests.Session:
        session = msal_http_client(self.ca_bundle)
        session.headers["Accept"] = ACCEPT[dialect]
        session.headers["Authorization"] = f"Bearer {token or self.token()}"
        return session

    def digest(self, session: requests.Session) -> str:
        reply = session.post(f"{self.api}/contextinfo")
        reply.raise_for_status()
        body = reply.json()
        info = body["d"]["GetContextWebInformation"] if "d" in body else body
        return str(info["FormDigestValue"])


@contextmanager
def pwa_stack(
    directory: Path,
    seed: SeedSpec | None = None,
    *,
    entra_knobs: dict[str, Any] | None = None,
    **pwa_knobs: Any,
) -> Iterator[PwaStack]:
    ca = SandboxCA(directory)
    entra = EntraEmulator(
        clients=[EntraClient(), EntraClient(client_id=PUBLIC_CLIENT_ID, secret=None)],
        **(entra_knobs or {}),
    )
    with ServedApp(entra.build_app(), ssl_context=ca.server_context()) as entra_served:
        pwa = PwaEmulator(
            seed=seed,
            token_validator=entra.validate,
            authorization_uri=f"{entra_served.url}/common/oauth2/authorize",
            **pwa_knobs,
        )
        with ServedApp(pwa.build_app(), ssl_context=ca.server_context()) as pwa_served:
            yield PwaStack(entra, pwa, entra_served.url, pwa_served.url, ca.bundle_path)
