"""Start a scenario's emulators on loopback and write a ready config for them.

``Sandbox`` is used by ``pmo-sync demo``, ``pmo-sync sandbox up``, the tests and the
benchmarks. It writes into its directory:

* ``pmo-sync.yaml`` and ``teams/*.yaml``: a configuration that points at the emulators;
* ``secrets/*``: the emulators' credentials as files (mode 0600), named by ``token_file``;
* ``sandbox-ca.pem``: the CA that signed every emulator's certificate;
* ``sandbox.json``: ``{"ca_bundle", "services": {name: {"kind", "url", "credentials", ...}}}``
  for people and scripts that want to reach the emulators with their own clients.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from ruamel.yaml import YAML

from pmosync.private_files import private_dir, write_private
from pmosync.sandbox.admin import EmulatorBase
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.server import ServedApp


@dataclass
class ServiceSpec:
    """One emulator in a scenario.

    ``connection`` is the pmo-sync.yaml entry for it (None for services such as Entra that
    are not connections themselves). Strings in it may name ``{url}`` (this service) or
    ``{url:OTHER}`` (another service); ``secrets`` are written to ``secrets/<name>.<key>``
    and referred to from ``connection`` as ``secrets/<name>.<key>``.
    """

    name: str
    kind: str
    emulator: EmulatorBase
    credentials: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # run once the config is written, with the sandbox directory (a one-time sign-in a person
    # would do with `pmo-sync auth login`, so delegated-only services work unattended)
    after_start: Callable[[Path], None] | None = None


@dataclass
class Scenario:
    services: list[ServiceSpec]
    portfolio: dict[str, Any] = field(default_factory=dict)
    sync: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunningService:
    spec: ServiceSpec
    served: ServedApp

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def emulator(self) -> EmulatorBase:
        return self.spec.emulator


def _fill(value: Any, urls: dict[str, str], own: str) -> Any:
    if isinstance(value, str):
        out = value.replace("{url}", urls[own])
        for name, url in urls.items():
            out = out.replace("{url:" + name + "}", url)
        return out
    if isinstance(value, dict):
        return {k: _fill(v, urls, own) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, urls, own) for v in value]
    return value


class Sandbox:
    """``with Sandbox("demo", directory) as sb: sb.config_path, sb.services["name"].url``."""

    def __init__(self, scenario: str | Scenario, directory: Path | str, **options: Any) -> None:
        from pmosync.sandbox.scenarios import build_scenario

        self.directory = Path(directory).resolve()
        self.scenario = (
            scenario if isinstance(scenario, Scenario) else build_scenario(scenario, **options)
        )
        self.services: dict[str, RunningService] = {}
        self.ca: SandboxCA | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / "pmo-sync.yaml"

    def start(self) -> Sandbox:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca = SandboxCA(self.directory)
        try:
            for spec in self.scenario.services:
                spec.emulator.mark_seed()  # /_admin/reset returns to this scenario's seed
                served = ServedApp(spec.emulator.build_app(), ssl_context=self.ca.server_context())
                self.services[spec.name] = RunningService(spec, served.start())
            self._write_files()
            for spec in self.scenario.services:
                if spec.after_start is not None:
                    spec.after_start(self.directory)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # Each server's shutdown waits out its poll interval; stop them side by side.
        threads = [
            threading.Thread(target=service.served.stop, daemon=True)
            for service in self.services.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        self.services.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_files(self) -> None:
        assert self.ca is not None
        urls = {name: s.url for name, s in self.services.items()}
        secrets_dir = self.directory / "secrets"
        private_dir(secrets_dir)
        teams_dir = self.directory / "teams"
        teams_dir.mkdir(exist_ok=True)
        yaml = YAML()
        yaml.default_flow_style = False
        connections: dict[str, Any] = {}
        teams: dict[str, Any] = {}
        info: dict[str, Any] = {}
        for name, service in self.services.items():
            spec = service.spec
            for key, value in spec.secrets.items():
                secret_path = secrets_dir / f"{name}.{key}"
                write_private(secret_path, value + "\n")
            info[name] = {
                "kind": spec.kind,
                "url": service.url,
                "credentials": _fill(spec.credentials, urls, name),
                "admin": service.url + "/_admin",
                **_fill(spec.extra, urls, name),
            }
            if spec.connection is not None:
                connections[name] = {
                    **_fill(spec.connection, urls, name),
                    "ca_bundle": "sandbox-ca.pem",
                }
            if spec.mapping is not None:
                mapping_path = teams_dir / f"{name}.yaml"
                with mapping_path.open("w", encoding="utf-8") as handle:
                    yaml.dump(_fill(spec.mapping, urls, name), handle)
                teams[name] = {"connection": name, "mapping": f"teams/{name}.yaml"}
        config = {
            "version": 1,
            "store": {"url": "sqlite:///pmo-sync.db"},
            "portfolio": self.scenario.portfolio or {"name": "Sandbox portfolio"},
            "sync": self.scenario.sync or {},
            "connections": connections,
            "teams": teams,
        }
        with self.config_path.open("w", encoding="utf-8") as handle:
            handle.write("# Written by the pmo-sync sandbox: points at loopback emulators.\n")
            yaml.dump(config, handle)
        sandbox_json = {"ca_bundle": str(self.ca.bundle_path), "services": info}
        # every sandbox credential: owner-only, like the secrets/ files (issue #11, item 14)
        write_private(self.directory / "sandbox.json", json.dumps(sandbox_json, indent=2) + "\n")
