"""Microsoft Entra ID token service emulator (https only: msal refuses http authorities).

Point msal at it with ``authority=f"{url}/{tenant_id}"`` and ``instance_discovery=False``, and
give msal an ``http_client`` that trusts the sandbox CA and ignores ``REQUESTS_CA_BUNDLE``
(see :func:`msal_http_client`).
"""

from __future__ import annotations

from pmosync.sandbox.entra.directory import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_DOMAIN,
    DEFAULT_TENANT_ID,
    DEFAULT_USER_OID,
    DEFAULT_USER_UPN,
    PROJECT_SCOPES,
    EntraClient,
    EntraTenant,
    EntraUser,
)
from pmosync.sandbox.entra.emulator import DEVICE_CODE_GRANT, EntraEmulator, EntraError
from pmosync.sandbox.entra.http import msal_http_client

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TENANT_DOMAIN",
    "DEFAULT_TENANT_ID",
    "DEFAULT_USER_OID",
    "DEFAULT_USER_UPN",
    "DEVICE_CODE_GRANT",
    "PROJECT_SCOPES",
    "EntraClient",
    "EntraEmulator",
    "EntraError",
    "EntraTenant",
    "EntraUser",
    "msal_http_client",
]
