"""The Entra ID service a Microsoft scenario (PWA, Planner Premium) runs beside its API emulator,
and the one-time delegated sign-in the sandbox does for its connections."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import requests

from pmosync.sandbox.entra import DEFAULT_TENANT_ID, DEFAULT_USER_UPN, EntraEmulator
from pmosync.sandbox.harness import ServiceSpec

APPROVE_PATH = "/_admin/entra/approve"


def entra_service(
    name: str, entra: EntraEmulator, public_client_id: str, **credentials: str
) -> ServiceSpec:
    """The sandbox tenant's sign-in endpoint, with what a user needs to sign in there.

    Each scenario registers its own public client; ``credentials`` adds what else it offers.
    """
    return ServiceSpec(
        name=name,
        kind="entra",
        emulator=entra,
        credentials={
            "tenant": DEFAULT_TENANT_ID,
            "authority": "{url}/" + DEFAULT_TENANT_ID,
            "public_client_id": public_client_id,
            "user": DEFAULT_USER_UPN,
            # the URL that approves a device code, as the person does on /devicelogin
            "approve": "{url}" + APPROVE_PATH,
            **credentials,
        },
    )


def device_code_sign_in(name: str, entra_name: str) -> Callable[[Path], None]:
    """The sandbox's ``pmo-sync auth login NAME``, run once after start.

    Project Online and Dataverse's schedule APIs take delegated users only, so the sandbox
    signs in exactly as a person does: the real msal device-code flow shows a code, and the
    sandbox user approves that code through the Entra emulator's admin endpoint (what the
    person does in a browser). The refresh token lands in the connection's msal token cache
    (0600); every later run refreshes silently, as cron would. Nothing here prints a token.
    """

    def sign_in(directory: Path) -> None:
        from pmosync.config.connections import PlannerConnection, PwaConnection
        from pmosync.config.loader import load_config
        from pmosync.connectors.msproject.auth import sign_in as msal_sign_in

        info = json.loads((directory / "sandbox.json").read_text(encoding="utf-8"))
        entra = info["services"][entra_name]["credentials"]
        conn = load_config(directory / "pmo-sync.yaml").connection(name)
        settings = conn.msal_settings() if isinstance(conn, PlannerConnection) else conn
        if not isinstance(settings, PwaConnection):
            raise TypeError(f"{name} is not a Microsoft connection")

        def person(message: str) -> None:
            found = re.search(r"enter the code (\S+)", message)
            if found is None:
                raise RuntimeError(f"no user code in Entra's device-code message: {message!r}")
            reply = requests.post(
                entra["approve"],
                json={"user_code": found.group(1), "user": entra["user"]},
                verify=info["ca_bundle"],
                timeout=10,
            )
            reply.raise_for_status()

        msal_sign_in(name, settings, prompt=person)

    return sign_in
