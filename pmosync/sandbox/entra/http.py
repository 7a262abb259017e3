"""A ``requests.Session`` msal can use against the sandbox (api-wire-protocol §4.2, option a)."""

from __future__ import annotations

from pathlib import Path

import requests


def msal_http_client(ca_bundle: str | Path) -> requests.Session:
    """Session that verifies with ``ca_bundle`` even when REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE are
    set: requests lets those variables override ``Session.verify`` unless ``trust_env`` is off."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_bundle)
    return session
