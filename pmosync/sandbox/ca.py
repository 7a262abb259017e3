"""A throw-away certificate authority so every emulator speaks https with verification on."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class SandboxCA:
    """One CA per sandbox; its bundle goes into the generated config and sandbox.json."""

    def __init__(self, directory: Path) -> None:
        self._ca = trustme.CA(organization_name="pmo-sync sandbox")
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        directory.mkdir(parents=True, exist_ok=True)
        self.bundle_path = directory / "sandbox-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.bundle_path))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context
