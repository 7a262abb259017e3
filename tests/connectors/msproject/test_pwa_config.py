"""PwaConnection and mapping-option validation (no network)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pydantic import ValidationError

from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.mapping import TeamMapping
from pmosync.connectors.msproject.connector import PwaConnector
from pmosync.errors import ConfigError

BASE = {
    "kind": "pwa",
    "site_url": "https://contoso.sharepoint.com/sites/pwa/",
    "tenant": "contoso.onmicrosoft.com",
    "client_id": "9b3e1d7a-6c2f-4e58-8a14-2f7c0b5d3e91",
}


def test_defaults_derive_scope_and_authority() -> None:
    config = PwaConnection.model_validate(BASE)
    assert config.auth == "device_code"
    assert config.site_url == "https://contoso.sharepoint.com/sites/pwa"
    assert config.oauth_scopes == ["https://contoso.sharepoint.com/.default"]
    assert config.msal_authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"auth": "client_credentials"}, "client_secret_env or client_secret_file"),
        ({"client_secret": "oops"}, "Extra inputs are not permitted"),
        ({"client_secret_env": "A", "client_secret_file": "b"}, "only one of client_secret"),
        ({"auth": "ntlm", "client_id": ""}, "needs username"),
        ({"client_id": ""}, "needs client_id"),
        ({"authority": "http://login.example"}, "should match pattern"),
        ({"server_timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_invalid_connections_are_refused(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PwaConnection.model_validate({**BASE, **extra})


def test_unknown_mapping_option_is_a_config_error(tmp_path: Path) -> None:
    config = PwaConnection.model_validate({**BASE, "token_cache": tmp_path / "c.json"})
    mapping = TeamMapping.model_validate({"entities": {"project": {"options": {"milestone": 1}}}})
    with pytest.raises(ConfigError, match="unknown PWA option"):
        PwaConnector("plans", config, [mapping])
    bad = TeamMapping.model_validate({"entities": {"project": {"options": {"baseline": 11}}}})
    with pytest.raises(ConfigError, match="baseline number 0-10"):
        PwaConnector("plans", config, [bad])


@pytest.mark.skipif(
    importlib.util.find_spec("requests_ntlm") is not None, reason="requests-ntlm is installed"
)
def test_ntlm_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("pw\n")
    config = PwaConnection.model_validate(
        {
            **BASE,
            "client_id": "",
            "auth": "ntlm",
            "username": "CONTOSO\\svc",
            "password_file": secret,
        }
    )
    with pytest.raises(ConfigError, match=r"pmo-sync\[ntlm\]"):
        PwaConnector("plans", config, [])
