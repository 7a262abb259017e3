"""The Entra ID service a Microsoft scenario (PWA, Planner Premium) runs beside its API emulator."""

from __future__ import annotations

from pmosync.sandbox.entra import DEFAULT_TENANT_ID, DEFAULT_USER_UPN, EntraEmulator
from pmosync.sandbox.harness import ServiceSpec


def entra_service(
    name: str, entra: EntraEmulator, public_client_id: str, **credentials: str
) -> ServiceSpec:
    """The sandbox tenant's sign-in endpoint, with what a user needs to sign in there.

    Each scenario registers its own public client; ``credentials`` adds what else it offers
    (e.g. the URL that approves a device code by hand).
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
            **credentials,
        },
    )
