"""Nothing goes out in clear text (issue #11, item 12): the policy every client's session goes
through refuses a plain-HTTP request, whether configured or reached by a redirect."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flask import Flask, redirect
from pyairtable import Api

from pmosync.connectors.http import HttpPolicy, mount_policy
from pmosync.errors import ConfigError
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.server import ServedApp


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A plain TCP port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    yield server
    server.close()


def _connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
        return True
    except TimeoutError:
        return False


def test_a_plain_http_request_is_refused_before_it_connects(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    api = Api("patSECRETSECRETSECRET.0123456789", endpoint_url=f"http://127.0.0.1:{port}")
    mount_policy(api.session, HttpPolicy(max_attempts=1))
    with pytest.raises(ConfigError, match="plain HTTP"):
        api.table("appABCDEFGHIJKLMN", "Projects").all()
    assert not _connected(listener)  # the token never left the process


def test_a_redirect_to_plain_http_is_not_followed(
    tmp_path: object, listener: socket.socket
) -> None:
    from pathlib import Path

    port = listener.getsockname()[1]
    app = Flask("redirector")

    @app.route("/<path:rest>")
    def away(rest: str) -> object:
        return redirect(f"http://127.0.0.1:{port}/{rest}", code=307)

    ca = SandboxCA(Path(str(tmp_path)))
    served = ServedApp(app, ssl_context=ca.server_context()).start()
    try:
        api = Api("patSECRETSECRETSECRET.0123456789", endpoint_url=served.url)
        mount_policy(api.session, HttpPolicy(max_attempts=1), ca_bundle=str(ca.bundle_path))
        with pytest.raises(ConfigError, match="plain HTTP"):
            api.table("appABCDEFGHIJKLMN", "Projects").all()
    finally:
        served.stop()
    assert not _connected(listener)
