"""The Entra emulator against the real msal 1.39 over loopback https with the sandbox CA."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msal
import pytest
import requests

from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.entra import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
    DEFAULT_USER_OID,
    EntraClient,
    EntraEmulator,
    msal_http_client,
)
from pmosync.sandbox.server import ServedApp

PUBLIC_CLIENT_ID = "4c1d8a2e-5b3f-4d6a-9e7b-1a2c3d4e5f60"
TOKEN_RULE = "POST /<tenant>/oauth2/v2.0/token"


@pytest.fixture(scope="module")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EntraEmulator, str, Path]]:
    ca = SandboxCA(tmp_path_factory.mktemp("entra-ca"))
    emulator = EntraEmulator(
        clients=[
            EntraClient(),
            EntraClient(client_id=PUBLIC_CLIENT_ID, secret=None, name="pmo-sync cli"),
        ],
        device_interval=1,
    )
    with ServedApp(emulator.build_app(), ssl_context=ca.server_context()) as served:
        yield emulator, served.url, ca.bundle_path


@pytest.fixture(autouse=True)
def _isolated(
    entra: tuple[EntraEmulator, str, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # The dev machines point these at the system bundle; the tests must not depend on them.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    emulator = entra[0]
    emulator.reset()
    emulator.counters.clear()
    yield


def _claims(jwt_token: str) -> dict[str, Any]:
    body = jwt_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _confidential(url: str, bundle: Path, secret: str = DEFAULT_CLIENT_SECRET) -> Any:
    return msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID,
        client_credential=secret,
        authority=f"{url}/{DEFAULT_TENANT_ID}",
        instance_discovery=False,
        http_client=msal_http_client(bundle),
    )


def test_client_credentials_then_cache_hit(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    app = _confidential(url, bundle)
    scopes = [f"{url}/.default"]
    first = app.acquire_token_for_client(scopes)
    assert first.get("token_type") == "Bearer", first
    second = app.acquire_token_for_client(scopes)
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]
    counts = emulator.counters.snapshot()["by_endpoint"]
    assert counts[TOKEN_RULE] == 1
    assert counts["GET /<tenant>/v2.0/.well-known/openid-configuration"] == 1
    claims = emulator.validate(first["access_token"], audience=url)
    assert claims is not None
    assert claims["tid"] == DEFAULT_TENANT_ID and claims["idtyp"] == "app"
    assert claims["roles"] == ["Sites.FullControl.All"] and "scp" not in claims
    assert emulator.validate(first["access_token"], audience="https://other.example") is None
    assert emulator.validate(first["access_token"] + "x") is None


def test_bad_secret_is_invalid_client(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    result = _confidential(url, bundle, secret="wrong").acquire_token_for_client(
        [f"{url}/.default"]
    )
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215:")
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert result[key]
    assert "wrong" not in json.dumps(result)


def test_client_credentials_needs_default_scope(entra: tuple[EntraEmulator, str, Path]) -> None:
    _, url, bundle = entra
    result = _confidential(url, bundle).acquire_token_for_client([f"{url}/Project.Read"])
    assert result["error"] == "invalid_scope" and result["error_codes"] == [1002012]


def test_unknown_client_and_tenant(entra: tuple[EntraEmulator, str, Path]) -> None:
    _, url, bundle = entra
    session = msal_http_client(bundle)
    reply = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
    )
    assert reply.status_code == 400 and reply.json()["error"] == "unauthorized_client"
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal.ConfidentialClientApplication(
            DEFAULT_CLIENT_ID,
            client_credential=DEFAULT_CLIENT_SECRET,
            authority=f"{url}/not-a-tenant.example",
            instance_discovery=False,
            http_client=session,
        )


def test_device_flow_then_silent_refresh(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=f"{url}/{DEFAULT_TENANT_ID}",
        instance_discovery=False,
        http_client=msal_http_client(bundle),
    )
    scopes = [f"{url}/Project.Read", f"{url}/Project.Write"]
    flow = app.initiate_device_flow(scopes=scopes)
    assert flow["verification_uri"] == f"{url}/devicelogin"
    assert flow["user_code"] in flow["message"] and flow["interval"] == 1
    # One poll that must come back pending, without msal's blocking loop.
    pending = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
    assert pending["error"] == "authorization_pending"
    assert pending["error_codes"] == [70016]
    assert emulator.approve(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    claims = emulator.validate(result["access_token"], audience=url)
    assert claims is not None
    assert claims["oid"] == DEFAULT_USER_OID
    assert set(claims["scp"].split()) == {"Project.Read", "Project.Write"}
    assert result["id_token_claims"]["oid"] == DEFAULT_USER_OID

    accounts = app.get_accounts()
    assert len(accounts) == 1
    cached = app.acquire_token_silent(scopes, account=accounts[0])
    assert cached is not None and cached["token_source"] == "cache"

    before = emulator.grant_counts().get("refresh_token", 0)
    refreshed = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
    assert refreshed is not None and refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]
    assert emulator.grant_counts()["refresh_token"] == before + 1

    # Short-lived tokens: msal treats < 5 min as expired and refreshes on its own.
    emulator.configure({"access_token_ttl": 120})
    app.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
    auto = app.acquire_token_silent(scopes, account=accounts[0])
    assert auto is not None and auto["token_source"] == "identity_provider"
    assert emulator.grant_counts()["refresh_token"] == before + 3

    emulator.revoke_refresh_tokens()
    failed = app.acquire_token_silent_with_error(scopes, account=accounts[0], force_refresh=True)
    assert failed is not None and failed["error"] == "invalid_grant"


def test_device_flow_auto_approve_and_admin_approve(
    entra: tuple[EntraEmulator, str, Path],
) -> None:
    emulator, url, bundle = entra
    session = msal_http_client(bundle)
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=f"{url}/{DEFAULT_TENANT_ID}",
        instance_discovery=False,
        http_client=session,
    )
    emulator.configure({"device_interval": 0, "auto_approve_after_polls": 2})
    flow = app.initiate_device_flow(scopes=[f"{url}/.default"])
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    assert emulator.grant_counts()["urn:ietf:params:oauth:grant-type:device_code"] == 3

    emulator.configure({"auto_approve_after_polls": None})
    flow = app.initiate_device_flow(scopes=[f"{url}/.default"])
    assert [c["user_code"] for c in emulator.pending_device_codes()] == [flow["user_code"]]
    reply = session.post(f"{url}/_admin/entra/approve", json={"user_code": flow["user_code"]})
    assert reply.status_code == 200 and reply.json()["approved"] == [flow["user_code"]]
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result
    # A redeemed device code cannot be used twice.
    again = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": PUBLIC_CLIENT_ID,
            "device_code": flow["device_code"],
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.filterwarnings("ignore:Attempted too soon")
def test_device_flow_declined_and_slow_down(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    app = msal.PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=f"{url}/{DEFAULT_TENANT_ID}",
        instance_discovery=False,
        http_client=msal_http_client(bundle),
    )
    emulator.configure({"slow_down_polls": 1})
    flow = app.initiate_device_flow(scopes=[f"{url}/.default"])
    slow = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
    assert slow["error"] == "slow_down" and flow["interval"] == 6  # msal adds 5 s
    assert emulator.decline(flow["user_code"])
    declined = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
    assert declined["error"] == "authorization_declined"


def test_expired_device_code(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    session = msal_http_client(bundle)
    emulator.configure({"device_code_ttl": 0})
    flow = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/devicecode",
        data={"client_id": PUBLIC_CLIENT_ID, "scope": f"{url}/.default offline_access"},
    ).json()
    reply = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": PUBLIC_CLIENT_ID,
            "device_code": flow["device_code"],
        },
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "expired_token" and reply.json()["error_codes"] == [70020]


def test_env_bundle_breaks_plain_verify(
    entra: tuple[EntraEmulator, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why msal_http_client exists: REQUESTS_CA_BUNDLE overrides a Session's verify."""
    _, url, bundle = entra
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system.exists():
        pytest.skip("no system CA bundle")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(system))
    discovery = f"{url}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration"
    session = requests.Session()
    session.verify = str(bundle)
    with pytest.raises(requests.exceptions.SSLError):
        session.get(discovery)
    assert msal_http_client(bundle).get(discovery).status_code == 200


def test_instance_discovery_and_oidc_authority(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    app = msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID,
        client_credential=DEFAULT_CLIENT_SECRET,
        authority=f"{url}/{DEFAULT_TENANT_ID}",
        instance_discovery=f"{url}/common/discovery/instance",
        http_client=msal_http_client(bundle),
    )
    assert "access_token" in app.acquire_token_for_client([f"{url}/.default"])
    counts = emulator.counters.snapshot()["by_endpoint"]
    assert counts["GET /common/discovery/instance"] == 1
    generic = msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID,
        client_credential=DEFAULT_CLIENT_SECRET,
        oidc_authority=f"{url}/{DEFAULT_TENANT_ID}/v2.0",
        http_client=msal_http_client(bundle),
    )
    assert "access_token" in generic.acquire_token_for_client([f"{url}/.default"])


def test_throttled_token_endpoint_is_replayed_by_msal(
    entra: tuple[EntraEmulator, str, Path],
) -> None:
    emulator, url, bundle = entra
    app = _confidential(url, bundle)
    token_path = f"/{DEFAULT_TENANT_ID}/oauth2/"
    emulator.faults.set(
        {"burst": {"status": 429, "count": 1, "retry_after": 1, "path_prefix": token_path}}
    )
    first = app.acquire_token_for_client([f"{url}/.default"])
    assert first["error"] == "temporarily_unavailable"
    again = app.acquire_token_for_client([f"{url}/.default"])
    assert again["error"] == "temporarily_unavailable"  # msal replays it for Retry-After
    assert emulator.counters.snapshot()["by_endpoint"][TOKEN_RULE] == 1
    emulator.faults.clear()


@pytest.mark.filterwarnings("ignore:This API has been deprecated")
def test_password_grant_needs_the_realm_workaround(tmp_path: Path) -> None:
    """ROPC (deprecated): msal asks https://host/common/userrealm on port 443, so the sandbox
    host must be marked as having no realm discovery (api-wire-protocol §4.1)."""
    from msal.authority import Authority

    from pmosync.sandbox.entra import DEFAULT_USER_UPN, EntraUser

    ca = SandboxCA(tmp_path)
    emulator = EntraEmulator(
        clients=[EntraClient(client_id=PUBLIC_CLIENT_ID, secret=None)],
        users=[EntraUser(password="correct horse")],
    )
    with ServedApp(emulator.build_app(), ssl_context=ca.server_context()) as served:
        app = msal.PublicClientApplication(
            PUBLIC_CLIENT_ID,
            authority=f"{served.url}/{DEFAULT_TENANT_ID}",
            instance_discovery=False,
            http_client=msal_http_client(ca.bundle_path),
        )
        realm_free = Authority._domains_without_user_realm_discovery
        realm_free.add("127.0.0.1")
        try:
            scopes = [f"{served.url}/.default"]
            bad = app.acquire_token_by_username_password(DEFAULT_USER_UPN, "wrong", scopes)
            assert bad["error"] == "invalid_grant" and bad["error_codes"] == [50126]
            good = app.acquire_token_by_username_password(DEFAULT_USER_UPN, "correct horse", scopes)
            assert "access_token" in good, good
            assert emulator.validate(good["access_token"], audience=served.url) is not None
        finally:
            realm_free.discard("127.0.0.1")


def test_tenant_by_domain_and_organizations(entra: tuple[EntraEmulator, str, Path]) -> None:
    from pmosync.sandbox.entra import DEFAULT_TENANT_DOMAIN

    emulator, url, bundle = entra
    for tenant in (DEFAULT_TENANT_DOMAIN, "organizations"):
        app = msal.ConfidentialClientApplication(
            DEFAULT_CLIENT_ID,
            client_credential=DEFAULT_CLIENT_SECRET,
            authority=f"{url}/{tenant}",
            instance_discovery=False,
            http_client=msal_http_client(bundle),
        )
        result = app.acquire_token_for_client([f"{url}/.default"])
        claims = emulator.validate(result["access_token"])
        assert claims is not None and claims["tid"] == DEFAULT_TENANT_ID


def test_device_login_page_approves_a_code(entra: tuple[EntraEmulator, str, Path]) -> None:
    emulator, url, bundle = entra
    session = msal_http_client(bundle)
    flow = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/devicecode",
        data={"client_id": PUBLIC_CLIENT_ID, "scope": f"{url}/.default offline_access"},
    ).json()
    page = session.get(f"{url}/devicelogin")
    assert page.status_code == 200 and "user_code" in page.text
    done = session.post(f"{url}/devicelogin", data={"user_code": flow["user_code"].lower()})
    assert "Signed in" in done.text
    token = session.post(
        f"{url}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": PUBLIC_CLIENT_ID,
            "device_code": flow["device_code"],
        },
    ).json()
    assert token["token_type"] == "Bearer" and token["refresh_token"] and token["client_info"]
