"""Who exists in the emulated Entra directory: tenants, app registrations and users."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TENANT_ID = "5f0c7b1e-3a2d-4c8b-9e61-0d4f2a7b9c13"
DEFAULT_TENANT_DOMAIN = "contoso.onmicrosoft.com"
DEFAULT_CLIENT_ID = "9b3e1d7a-6c2f-4e58-8a14-2f7c0b5d3e91"
DEFAULT_CLIENT_SECRET = "sandbox-secret-not-for-production"  # noqa: S105 - emulator default
DEFAULT_USER_OID = "0c9a4e2b-7d13-4f6a-b58e-3e1f0a2c7d44"
DEFAULT_USER_UPN = f"pmo.lead@{DEFAULT_TENANT_DOMAIN}"

# Delegated permissions the PWA/SharePoint resource knows (api-wire-protocol §4.4).
PROJECT_SCOPES: tuple[str, ...] = (
    "Project.Read",
    "Project.Write",
    "ProjectWebApp.FullControl",
    "ProjectWebAppReporting.Read",
    "EnterpriseResource.Read",
    "AllSites.Read",
)


@dataclass(frozen=True)
class EntraTenant:
    tenant_id: str = DEFAULT_TENANT_ID
    domain: str = DEFAULT_TENANT_DOMAIN


@dataclass(frozen=True)
class EntraClient:
    """An app registration.

    ``secret`` None makes it a public client (device code, refresh token only).
    ``delegated_scopes`` are what ``.default`` expands to for a signed-in user; ``app_roles``
    are what a client-credentials token carries in ``roles``.
    """

    client_id: str = DEFAULT_CLIENT_ID
    secret: str | None = DEFAULT_CLIENT_SECRET
    name: str = "pmo-sync"
    delegated_scopes: tuple[str, ...] = PROJECT_SCOPES
    app_roles: tuple[str, ...] = ("Sites.FullControl.All",)
    allow_public_flows: bool = True

    def __repr__(self) -> str:  # the secret must never reach a log line
        return f"EntraClient(client_id={self.client_id!r}, name={self.name!r})"


@dataclass(frozen=True)
class EntraUser:
    oid: str = DEFAULT_USER_OID
    upn: str = DEFAULT_USER_UPN
    name: str = "PMO Lead"
    tenant_id: str = DEFAULT_TENANT_ID
    password: str | None = field(default=None, repr=False)
