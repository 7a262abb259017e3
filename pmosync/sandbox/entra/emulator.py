"""Loopback emulator of the Microsoft Entra ID v2.0 token service, as ``msal`` 1.39 uses it.

Routes (api-wire-protocol §4; ``{tenant}`` is a tenant id, its domain, ``common`` or
``organizations``):

* ``GET  /{tenant}/v2.0/.well-known/openid-configuration``: tenant discovery (msal constructor);
* ``GET  /common/discovery/instance``: instance discovery, for apps given
  ``instance_discovery="https://127.0.0.1:PORT/common/discovery/instance"``;
* ``GET  /common/userrealm/{upn}``: user realm discovery (ROPC), always ``Managed``;
* ``POST /{tenant}/oauth2/v2.0/devicecode``: device authorization;
* ``POST /{tenant}/oauth2/v2.0/token``: grants ``client_credentials``, ``device_code``,
  ``refresh_token`` and ``password``;
* ``GET  /{tenant}/discovery/v2.0/keys``: an empty JWKS (tokens are HS256, checked in-process);
* ``GET|POST /devicelogin``: the page a human opens to enter a user code (demo);
* ``POST /_admin/entra/approve`` ``{"user_code": "...", "user": "upn"}`` or ``{"all": true}``,
  ``GET /_admin/entra/device_codes``: approve device codes from scripts.

Errors carry the AADSTS body msal returns to callers: ``error``, ``error_description``,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``.

Python API: :meth:`EntraEmulator.approve`, :meth:`EntraEmulator.decline`,
:meth:`EntraEmulator.validate` (what the PWA emulator calls to check a bearer token),
:meth:`EntraEmulator.mint_access_token`, :meth:`EntraEmulator.grant_counts`,
:meth:`EntraEmulator.configure` with knobs ``access_token_ttl``, ``refresh_token_ttl``,
``device_code_ttl``, ``device_interval``, ``auto_approve_after_polls``, ``auto_approve_user``,
``slow_down_polls``.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from flask import Flask, Response, jsonify, request

from pmosync.sandbox.admin import Burst, EmulatorBase
from pmosync.sandbox.entra.directory import (
    EntraClient,
    EntraTenant,
    EntraUser,
)
from pmosync.sandbox.entra.tokens import TokenSigner, client_info, now, unsigned_jwt

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
GRAPH_RESOURCE = "https://graph.microsoft.com"
_USER_CODE_ALPHABET = string.ascii_uppercase + string.digits

DEFAULT_KNOBS: dict[str, Any] = {
    "access_token_ttl": 3599,
    "refresh_token_ttl": 90 * 86400,
    "device_code_ttl": 900,
    "device_interval": 5,
    # Demo convenience: a device code approves itself (as auto_approve_user) on poll N.
    "auto_approve_after_polls": None,
    "auto_approve_user": None,
    # The next N device-code polls answer slow_down (msal then adds 5 s to its interval).
    "slow_down_polls": 0,
}


class EntraError(Exception):
    """An OAuth error answer; rendered by :func:`_error_response`."""

    def __init__(self, error: str, code: int, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.code = code
        self.description = description
        self.status = status


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    tenant_id: str
    scopes: list[str]
    expires_at: float
    polls: int = 0
    user: EntraUser | None = None
    declined: bool = False
    redeemed: bool = False


@dataclass
class RefreshGrant:
    client_id: str
    tenant_id: str
    user: EntraUser
    expires_at: float


@dataclass
class _Grants:
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)
    by_grant_type: Counter[str] = field(default_factory=Counter)


class EntraEmulator(EmulatorBase):
    """Entra ID token service; ``EntraEmulator()`` has one tenant, one client and one user."""

    kind = "entra"

    def __init__(
        self,
        tenants: Iterable[EntraTenant] | None = None,
        clients: Iterable[EntraClient] | None = None,
        users: Iterable[EntraUser] | None = None,
        **knobs: Any,
    ) -> None:
        super().__init__()
        self.tenants = list(tenants or [EntraTenant()])
        self.clients = {c.client_id: c for c in (clients or [EntraClient()])}
        self.users = list(users or [EntraUser(tenant_id=self.tenants[0].tenant_id)])
        self.signer = TokenSigner()
        self.knobs = dict(DEFAULT_KNOBS)
        self._initial_knobs = dict(DEFAULT_KNOBS)
        self.configure(knobs)
        self._initial_knobs = dict(self.knobs)
        self._grants = _Grants()
        self._guard = threading.RLock()

    # -- python API -----------------------------------------------------------------------
    def reset(self) -> None:
        with self._guard:
            self._grants = _Grants()
            self.knobs = dict(self._initial_knobs)

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(knobs) - set(DEFAULT_KNOBS)
        if unknown:
            raise ValueError(f"unknown Entra emulator knobs: {sorted(unknown)}")
        self.knobs.update(knobs)
        return dict(self.knobs)

    def validate(self, token: str, audience: str | None = None) -> dict[str, Any] | None:
        """Claims of a token this emulator issued and that has not expired, else None."""
        return self.signer.validate(token, audience=audience)

    def approve(self, user_code: str, user: str | EntraUser | None = None) -> bool:
        """Sign in ``user`` (upn, oid or EntraUser; default the first user) for a device code."""
        with self._guard:
            flow = self._find_user_code(user_code)
            if flow is None or flow.redeemed or flow.expires_at < time.time():
                return False
            flow.user = self._user(user)
            return True

    def decline(self, user_code: str) -> bool:
        with self._guard:
            flow = self._find_user_code(user_code)
            if flow is None:
                return False
            flow.declined = True
            return True

    def pending_device_codes(self) -> list[dict[str, Any]]:
        with self._guard:
            return [
                {"user_code": f.user_code, "client_id": f.client_id, "polls": f.polls}
                for f in self._grants.device_codes.values()
                if f.user is None and not f.declined and f.expires_at >= time.time()
            ]

    def revoke_refresh_tokens(self) -> None:
        with self._guard:
            self._grants.refresh_tokens.clear()

    def grant_counts(self) -> dict[str, int]:
        """Token requests received per grant type (including failed ones)."""
        with self._guard:
            return dict(self._grants.by_grant_type)

    def mint_access_token(
        self,
        audience: str,
        *,
        scopes: Iterable[str] = ("Project.Read", "Project.Write"),
        user: str | EntraUser | None = None,
        client_id: str | None = None,
        ttl: int | None = None,
        issuer: str = "https://sandbox.invalid",
    ) -> str:
        """A delegated token without a flow, for tests of resource emulators."""
        who = self._user(user)
        client = self.clients[client_id] if client_id else next(iter(self.clients.values()))
        return self._access_token(
            issuer=issuer,
            tenant_id=who.tenant_id,
            client=client,
            audience=audience,
            scp=list(scopes),
            user=who,
            ttl=ttl,
        )

    # -- helpers --------------------------------------------------------------------------
    def _user(self, user: str | EntraUser | None) -> EntraUser:
        if isinstance(user, EntraUser):
            return user
        if user is None:
            return self.users[0]
        for candidate in self.users:
            if user.lower() in (candidate.upn.lower(), candidate.oid):
                return candidate
        raise KeyError(f"unknown user {user!r}")

    def _find_user_code(self, user_code: str) -> DeviceCode | None:
        wanted = user_code.strip().upper()
        for flow in self._grants.device_codes.values():
            if flow.user_code == wanted:
                return flow
        return None

    def _tenant(self, segment: str) -> EntraTenant:
        lowered = segment.lower()
        if lowered in ("common", "organizations"):
            return self.tenants[0]
        for tenant in self.tenants:
            if lowered in (tenant.tenant_id, tenant.domain.lower()):
                return tenant
        raise EntraError(
            "invalid_request",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )

    def _client(self, form: dict[str, str]) -> EntraClient:
        client_id = form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None:
            raise EntraError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                "'Sandbox'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        return client

    def _check_secret(self, client: EntraClient, form: dict[str, str], required: bool) -> None:
        given = form.get("client_secret")
        if given is None and client.secret is not None and required:
            raise EntraError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                status=401,
            )
        if given is not None and (
            client.secret is None or not secrets.compare_digest(given, client.secret)
        ):
            raise EntraError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client.client_id}'.",
                status=401,
            )

    def _resolve_scopes(
        self, scope_param: str, client: EntraClient, *, app_only: bool
    ) -> tuple[str, list[str]]:
        """(audience, granted permission names) for a space-separated v2 scope string."""
        resources: dict[str, list[str]] = {}
        for scope in scope_param.split():
            if scope in RESERVED_SCOPES:
                continue
            resource, _, name = scope.rpartition("/")
            resources.setdefault((resource or GRAPH_RESOURCE).rstrip("/"), []).append(name)
        if len(resources) > 1:
            raise EntraError(
                "invalid_scope",
                28000,
                "Provided value for the input parameter scope is not valid because it contains "
                "more than one resource. Scope "
                f"{scope_param} is not valid.",
            )
        if not resources:
            if app_only:
                raise EntraError(
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope_param} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI).",
                )
            return GRAPH_RESOURCE, ["User.Read"]
        audience, names = next(iter(resources.items()))
        if app_only:
            if names != [".default"]:
                raise EntraError(
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope_param} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI).",
                )
            return audience, list(client.app_roles)
        if ".default" in names:
            return audience, list(client.delegated_scopes)
        missing = [n for n in names if n not in client.delegated_scopes]
        if missing:
            raise EntraError(
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{client.client_id}' named '{client.name}'. Send an interactive authorization "
                f"request for this user and resource. Missing: {' '.join(missing)}",
            )
        return audience, names

    def _access_token(
        self,
        *,
        issuer: str,
        tenant_id: str,
        client: EntraClient,
        audience: str,
        scp: list[str] | None = None,
        roles: list[str] | None = None,
        user: EntraUser | None = None,
        ttl: int | None = None,
    ) -> str:
        issued = now()
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(ttl if ttl is not None else self.knobs["access_token_ttl"]),
            "appid": client.client_id,
            "azp": client.client_id,
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
            # How the client proved itself: "0" public client, "1" client secret, "2"
            # certificate (learn.microsoft.com/entra/identity-platform/access-token-claims-
            # reference, appidacr). This emulator takes secrets only, never certificates;
            # SharePoint Online reads the claim to refuse secret-based app-only tokens.
            "appidacr": "0" if client.secret is None else "1",
        }
        if user is not None:
            claims.update(
                oid=user.oid,
                sub=user.oid,
                upn=user.upn,
                unique_name=user.upn,
                name=user.name,
                scp=" ".join(scp or []),
                idtyp="user",
            )
        else:
            sp_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{client.client_id}"))
            claims.update(oid=sp_oid, sub=sp_oid, roles=list(roles or []), idtyp="app")
        return self.signer.sign(claims)

    def _user_tokens(
        self,
        *,
        issuer: str,
        tenant_id: str,
        client: EntraClient,
        user: EntraUser,
        scope_param: str,
    ) -> dict[str, Any]:
        audience, granted = self._resolve_scopes(scope_param, client, app_only=False)
        ttl = int(self.knobs["access_token_ttl"])
        issued = now()
        refresh = secrets.token_urlsafe(48)
        with self._guard:
            self._grants.refresh_tokens[refresh] = RefreshGrant(
                client.client_id,
                tenant_id,
                user,
                time.time() + float(self.knobs["refresh_token_ttl"]),
            )
        id_token = unsigned_jwt(
            {
                "aud": client.client_id,
                "iss": issuer,
                "iat": issued,
                "nbf": issued,
                "exp": issued + ttl,
                "oid": user.oid,
                "sub": user.oid,
                "tid": tenant_id,
                "preferred_username": user.upn,
                "name": user.name,
                "ver": "2.0",
            }
        )
        return {
            "token_type": "Bearer",
            "scope": scope_param,
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": self._access_token(
                issuer=issuer,
                tenant_id=tenant_id,
                client=client,
                audience=audience,
                scp=granted,
                user=user,
            ),
            "refresh_token": refresh,
            "id_token": id_token,
            "client_info": client_info(user.oid, tenant_id),
        }

    # -- grants ---------------------------------------------------------------------------
    def _grant(self, tenant: EntraTenant, form: dict[str, str], origin: str) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        with self._guard:
            self._grants.by_grant_type[grant_type or "(none)"] += 1
        client = self._client(form)
        issuer = f"{origin}/{tenant.tenant_id}/v2.0"
        if grant_type == "client_credentials":
            self._check_secret(client, form, required=True)
            if client.secret is None:
                raise EntraError(
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                    status=401,
                )
            scope_param = form.get("scope", "")
            audience, roles = self._resolve_scopes(scope_param, client, app_only=True)
            ttl = int(self.knobs["access_token_ttl"])
            return {
                "token_type": "Bearer",
                "expires_in": ttl,
                "ext_expires_in": ttl,
                "scope": scope_param,
                "access_token": self._access_token(
                    issuer=issuer,
                    tenant_id=tenant.tenant_id,
                    client=client,
                    audience=audience,
                    roles=roles,
                ),
            }
        self._check_secret(client, form, required=False)
        if grant_type == DEVICE_CODE_GRANT:
            if not client.allow_public_flows:
                raise EntraError(
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                    status=401,
                )
            user, scopes = self._poll_device_code(form, client)
            return self._user_tokens(
                issuer=issuer,
                tenant_id=tenant.tenant_id,
                client=client,
                user=user,
                scope_param=scopes,
            )
        if grant_type == "refresh_token":
            with self._guard:
                grant = self._grants.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None or grant.expires_at < time.time():
                raise EntraError(
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to "
                    "inactivity. Send a new interactive authorization request for this user "
                    "and resource.",
                )
            if grant.client_id != client.client_id:
                raise EntraError(
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed: the refresh token was issued to "
                    "a different client id.",
                )
            return self._user_tokens(
                issuer=issuer,
                tenant_id=tenant.tenant_id,
                client=client,
                user=grant.user,
                scope_param=form.get("scope", ""),
            )
        if grant_type == "password":
            upn = form.get("username", "")
            try:
                known: EntraUser | None = self._user(upn)
            except KeyError:
                known = None
            given = form.get("password", "")
            if (
                known is None
                or known.password is None
                or not secrets.compare_digest(known.password, given)
            ):
                raise EntraError(
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.",
                )
            return self._user_tokens(
                issuer=issuer,
                tenant_id=tenant.tenant_id,
                client=client,
                user=known,
                scope_param=form.get("scope", ""),
            )
        raise EntraError(
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def _poll_device_code(self, form: dict[str, str], client: EntraClient) -> tuple[EntraUser, str]:
        code = form.get("device_code") or form.get("code") or ""
        with self._guard:
            flow = self._grants.device_codes.get(code)
            if flow is None or flow.client_id != client.client_id or flow.redeemed:
                raise EntraError(
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed: unknown or already redeemed "
                    "device code.",
                )
            flow.polls += 1
            if flow.expires_at < time.time():
                raise EntraError(
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. "
                    "This device code has expired.",
                )
            if flow.declined:
                raise EntraError(
                    "authorization_declined",
                    70000,
                    "The user declined the authorization request for this device code.",
                )
            if int(self.knobs["slow_down_polls"]) > 0:
                self.knobs["slow_down_polls"] = int(self.knobs["slow_down_polls"]) - 1
                raise EntraError(
                    "slow_down",
                    70016,
                    "OAuth 2.0 device flow error. Polling too frequently: slow down.",
                )
            after = self.knobs["auto_approve_after_polls"]
            if flow.user is None and after is not None and flow.polls > int(after):
                flow.user = self._user(self.knobs["auto_approve_user"])
            if flow.user is None:
                raise EntraError(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            flow.redeemed = True
            return flow.user, " ".join(flow.scopes)

    def _device_authorization(
        self, tenant: EntraTenant, form: dict[str, str], origin: str
    ) -> dict[str, Any]:
        client = self._client(form)
        if not client.allow_public_flows:
            raise EntraError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                status=401,
            )
        scope_param = form.get("scope", "")
        # Fail early on scopes the token request would reject anyway.
        self._resolve_scopes(scope_param, client, app_only=False)
        ttl = int(self.knobs["device_code_ttl"])
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        flow = DeviceCode(
            device_code=secrets.token_urlsafe(40),
            user_code=user_code,
            client_id=client.client_id,
            tenant_id=tenant.tenant_id,
            scopes=scope_param.split(),
            expires_at=time.time() + ttl,
        )
        with self._guard:
            self._grants.device_codes[flow.device_code] = flow
        uri = f"{origin}/devicelogin"
        return {
            "user_code": user_code,
            "device_code": flow.device_code,
            "verification_uri": uri,
            "expires_in": ttl,
            "interval": int(self.knobs["device_interval"]),
            "message": (
                f"To sign in, use a web browser to open the page {uri} and enter the code "
                f"{user_code} to authenticate."
            ),
        }

    def openid_configuration(self, tenant: EntraTenant, origin: str) -> dict[str, Any]:
        base = f"{origin}/{tenant.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{origin}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "oid",
            ],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }

    # -- flask ----------------------------------------------------------------------------
    def fault_response(self, burst: Burst) -> Response:
        if burst.body is not None:
            return super().fault_response(burst)
        error = "temporarily_unavailable" if burst.status >= 429 else "invalid_request"
        return _error_response(
            EntraError(error, 50196, "The server is temporarily unavailable.", burst.status)
        )

    def register_routes(self, app: Flask) -> None:
        emulator = self

        def origin() -> str:
            return request.host_url.rstrip("/")

        @app.errorhandler(EntraError)
        def _entra_error(exc: EntraError) -> Response:
            return _error_response(exc)

        @app.get("/<tenant>/v2.0/.well-known/openid-configuration")
        def _openid(tenant: str) -> Response:
            return jsonify(emulator.openid_configuration(emulator._tenant(tenant), origin()))

        @app.get("/common/discovery/instance")
        def _instance_discovery() -> Response:
            authorize = request.args.get("authorization_endpoint", "")
            segment = authorize.split("/")[3] if authorize.count("/") >= 3 else "common"
            tenant = emulator._tenant(segment)
            return jsonify(
                {
                    "tenant_discovery_endpoint": (
                        f"{origin()}/{tenant.tenant_id}/v2.0/.well-known/openid-configuration"
                    ),
                    "api-version": "1.1",
                    "metadata": [
                        {
                            "preferred_network": request.host,
                            "preferred_cache": request.host,
                            "aliases": [request.host],
                        }
                    ],
                }
            )

        @app.get("/common/userrealm/<path:upn>")
        def _userrealm(upn: str) -> Response:
            domain = upn.rpartition("@")[2]
            return jsonify(
                {
                    "ver": "1.0",
                    "account_type": "Managed",
                    "domain_name": domain,
                    "cloud_instance_name": "microsoftonline.com",
                    "cloud_audience_urn": "urn:federation:MicrosoftOnline",
                }
            )

        @app.get("/<tenant>/discovery/v2.0/keys")
        def _keys(tenant: str) -> Response:
            emulator._tenant(tenant)
            return jsonify({"keys": []})

        @app.post("/<tenant>/oauth2/v2.0/token")
        def _token(tenant: str) -> Response:
            resolved = emulator._tenant(tenant)
            return _no_store(jsonify(emulator._grant(resolved, _form(), origin())))

        @app.post("/<tenant>/oauth2/v2.0/devicecode")
        def _devicecode(tenant: str) -> Response:
            resolved = emulator._tenant(tenant)
            return _no_store(jsonify(emulator._device_authorization(resolved, _form(), origin())))

        @app.route("/devicelogin", methods=["GET", "POST"])
        def _devicelogin() -> Response:
            message = ""
            if request.method == "POST":
                code = request.form.get("user_code", "")
                who = request.form.get("user") or None
                try:
                    ok = emulator.approve(code, who)
                except KeyError:
                    ok = False
                message = "Signed in. You can close this page." if ok else "Unknown code."
            return Response(_DEVICE_PAGE.format(message=escape(message)), mimetype="text/html")

        @app.get("/_admin/entra/device_codes")
        def _device_codes() -> Response:
            return jsonify(emulator.pending_device_codes())

        @app.post("/_admin/entra/approve")
        def _approve() -> Response:
            body = request.get_json(force=True, silent=True) or {}
            if body.get("all"):
                codes = [c["user_code"] for c in emulator.pending_device_codes()]
            else:
                codes = [str(body.get("user_code", ""))]
            try:
                approved = [c for c in codes if emulator.approve(c, body.get("user"))]
            except KeyError as exc:
                return _json_status({"ok": False, "error": str(exc)}, 400)
            status = 200 if approved else 404
            return _json_status({"ok": bool(approved), "approved": approved}, status)


_DEVICE_PAGE = """<!doctype html><html><head><title>Sandbox device login</title></head><body>
<h1>pmo-sync sandbox: device sign-in</h1><p>{message}</p>
<form method="post"><label>Code <input name="user_code" autofocus></label>
<label>User (optional) <input name="user"></label><button>Sign in</button></form></body></html>"""


def _form() -> dict[str, str]:
    form = {k: v for k, v in request.form.items()}
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):  # client_secret_basic
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user, password = "", ""
        form.setdefault("client_id", user)
        form.setdefault("client_secret", password)
    return form


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["Pragma"] = "no-cache"
    return response


def _json_status(body: Any, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _error_response(exc: EntraError) -> Response:
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": exc.error,
        "error_description": (
            f"AADSTS{exc.code}: {exc.description} Trace ID: {trace_id} Correlation ID: "
            f"{correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [exc.code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    }
    if exc.status == 401:
        body["error_uri"] = "https://login.microsoftonline.com/error?code=" + str(exc.code)
    return _no_store(_json_status(body, exc.status))
