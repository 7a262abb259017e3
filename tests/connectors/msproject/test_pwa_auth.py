"""Entra sign-in through the real msal against the Entra emulator over loopback https."""

from __future__ import annotations

import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests

from pmosync.config.connections.pwa import PwaConnection
from pmosync.connectors.msproject.auth import (
    MsalCredentials,
    SignInRequired,
    TokenCacheFile,
    sign_in,
)
from pmosync.connectors.msproject.transport import build_session
from pmosync.errors import AuthError, ConfigError
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.entra import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
    DEFAULT_USER_UPN,
    EntraClient,
    EntraEmulator,
)
from pmosync.sandbox.server import ServedApp

PUBLIC_CLIENT_ID = "7e2d9b1c-4a3f-4e6b-8c5d-2b1a0f9e8d71"
SITE = "https://pwa.contoso.example/sites/pwa"


@pytest.fixture(scope="module")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EntraEmulator, str, Path]]:
    ca = SandboxCA(tmp_path_factory.mktemp("pwa-auth-ca"))
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
def _fresh(entra: tuple[EntraEmulator, str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # A system bundle in the environment must not override the connection's CA (§4.2).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    entra[0].reset()


def _config(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path, **overrides: Any
) -> PwaConnection:
    _, url, bundle = entra
    secret = tmp_path / "client_secret"
    if not secret.exists():
        secret.write_text(DEFAULT_CLIENT_SECRET + "\n")
    values: dict[str, Any] = {
        "kind": "pwa",
        "site_url": SITE,
        "authority": url,
        "tenant": DEFAULT_TENANT_ID,
        "client_id": DEFAULT_CLIENT_ID,
        "auth": "client_credentials",
        "client_secret_file": secret,
        "token_cache": tmp_path / "cache" / "msal.json",
        "ca_bundle": bundle,
    }
    values.update(overrides)
    return PwaConnection(**values)


def _token_posts(emulator: EntraEmulator) -> int:
    return sum(emulator.grant_counts().values())


def test_client_credentials_cache_file_0600_and_reused_by_next_instance(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path
) -> None:
    emulator = entra[0]
    config = _config(entra, tmp_path)
    session, adapter = build_session(config)
    first = MsalCredentials("plans", config, session)
    token = first.access_token()
    assert token.count(".") == 2
    assert emulator.validate(token, audience="https://pwa.contoso.example") is not None
    assert emulator.grant_counts() == {"client_credentials": 1}
    assert adapter.stats.requests == 2  # discovery + one token POST, through our policy layer
    cache = config.token_cache
    assert cache is not None and cache.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert token not in repr(first) and DEFAULT_CLIENT_SECRET not in repr(first)

    second_session, _ = build_session(config)
    second = MsalCredentials("plans", config, second_session)
    assert second.access_token() == token
    assert _token_posts(emulator) == 1  # served silently from the on-disk cache


def test_invalidate_drops_the_token_so_the_next_call_fetches_a_new_one(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path
) -> None:
    config = _config(entra, tmp_path)
    session, _ = build_session(config)
    credentials = MsalCredentials("plans", config, session)
    credentials.access_token()
    credentials.invalidate()
    credentials.access_token()
    assert entra[0].grant_counts() == {"client_credentials": 2}


def test_wrong_secret_is_an_auth_error_without_the_secret(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad_secret"
    bad.write_text("not-the-secret-value\n")
    config = _config(entra, tmp_path, client_secret_file=bad)
    session, _ = build_session(config)
    with pytest.raises(AuthError, match="invalid_client") as info:
        MsalCredentials("plans", config, session).access_token()
    assert "not-the-secret-value" not in str(info.value)


def test_missing_secret_names_the_env_var_and_the_file(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PWA_SECRET_FOR_TEST", raising=False)
    config = _config(
        entra, tmp_path, client_secret_file=None, client_secret_env="PWA_SECRET_FOR_TEST"
    )
    session, _ = build_session(config)
    with pytest.raises(AuthError, match="PWA_SECRET_FOR_TEST"):
        MsalCredentials("plans", config, session).access_token()
    missing = _config(entra, tmp_path, client_secret_file=tmp_path / "nowhere")
    with pytest.raises(AuthError, match="nowhere"):
        MsalCredentials("plans", missing, build_session(missing)[0]).access_token()


def test_device_code_needs_a_prior_sign_in_in_cron(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path
) -> None:
    config = _config(
        entra, tmp_path, auth="device_code", client_id=PUBLIC_CLIENT_ID, client_secret_file=None
    )
    session, _ = build_session(config)
    with pytest.raises(ConfigError, match="pmo-sync auth login plans") as info:
        MsalCredentials("plans", config, session).access_token()
    assert isinstance(info.value, SignInRequired)
    assert entra[0].grant_counts() == {}  # no device flow was started behind anyone's back


def test_device_code_sign_in_then_silent_refresh(
    entra: tuple[EntraEmulator, str, Path], tmp_path: Path
) -> None:
    emulator, url, bundle = entra
    # Short-lived access tokens make msal refresh on the next run instead of reusing them.
    emulator.configure({"access_token_ttl": 60})
    config = _config(
        entra, tmp_path, auth="device_code", client_id=PUBLIC_CLIENT_ID, client_secret_file=None
    )
    shown: list[str] = []

    def approve_later(message: str) -> None:
        shown.append(message)
        code = re.search(r"enter the code (\S+)", message)
        assert code, message

        def approve() -> None:
            requests.post(
                f"{url}/_admin/entra/approve",
                json={"user_code": code.group(1)},
                verify=str(bundle),
                timeout=10,
            ).raise_for_status()

        threading.Timer(0.3, approve).start()

    who = sign_in("plans", config, prompt=approve_later)
    assert who == DEFAULT_USER_UPN
    assert len(shown) == 1 and "access_token" not in shown[0]
    assert config.token_cache is not None
    assert stat.S_IMODE(config.token_cache.stat().st_mode) == 0o600
    assert emulator.grant_counts()["urn:ietf:params:oauth:grant-type:device_code"] >= 1

    cron = MsalCredentials("plans", config, build_session(config)[0])
    token = cron.access_token()
    assert emulator.validate(token) is not None
    assert emulator.grant_counts().get("refresh_token") == 1

    emulator.revoke_refresh_tokens()
    expired = MsalCredentials("plans", config, build_session(config)[0])
    with pytest.raises(SignInRequired, match="sign in again"):
        expired.access_token()


def test_a_readable_cache_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "msal.json"
    path.write_text("{}")
    path.chmod(0o644)
    TokenCacheFile(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
