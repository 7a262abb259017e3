"""The emulator process (benchmarks/serve.py) seen from the runner: start, wait, admin, stop."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

SERVE = Path(__file__).with_name("serve.py")


class EmulatorProcess:
    """``with EmulatorProcess("M", directory) as emulators: emulators.ready["counts"]``."""

    def __init__(self, size: str, directory: Path, *, timeout: float = 1800) -> None:
        self.size = size
        self.directory = directory
        self.timeout = timeout
        self.ready: dict[str, Any] = {}
        self.knobs: dict[str, dict[str, Any]] = {}  # re-applied after every reset
        self._process: subprocess.Popen[bytes] | None = None
        self._session = requests.Session()
        self._session.trust_env = False  # an ambient proxy or CA bundle must not apply

    def start(self) -> EmulatorProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        ready_path = self.directory / "ready.json"
        ready_path.unlink(missing_ok=True)
        log = (self.directory / "serve.log").open("wb")
        command = [sys.executable, str(SERVE), "--size", self.size, "--dir", str(self.directory)]
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while not ready_path.exists():
            if self._process.poll() is not None:
                tail = (self.directory / "serve.log").read_text()[-2000:]
                raise RuntimeError(f"the emulator process exited while seeding:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulators were not ready after {self.timeout:.0f} s")
            time.sleep(0.2)
        time.sleep(0.1)  # written in one call, but give the writer a moment to close it
        self.ready = json.loads(ready_path.read_text())
        self._session.verify = str(self.directory / "sandbox-ca.pem")
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def url(self, name: str) -> str:
        return str(self.ready["services"][name]["url"])

    def names(self, kind: str) -> list[str]:
        return [n for n, s in self.ready["services"].items() if s["kind"] == kind]

    def admin(self, name: str, method: str, path: str, body: Any = None) -> Any:
        response = self._session.request(
            method, f"{self.url(name)}/_admin/{path}", json=body, timeout=600
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def counters(self) -> dict[str, dict[str, int]]:
        """Requests so far per connection emulator, by endpoint."""
        return {
            name: self.admin(name, "GET", "counters")["by_endpoint"]
            for name, service in self.ready["services"].items()
            if service["kind"] != "entra"
        }

    def reset(self) -> None:
        """Every connection emulator back to the scenario's seed (Entra keeps its sign-ins,
        so the Planner token cache stays valid)."""
        for name, service in self.ready["services"].items():
            if service["kind"] != "entra":
                self.admin(name, "POST", "reset")
        for name, knobs in self.knobs.items():
            self.admin(name, "POST", "config", knobs)

    def configure(self, name: str, knobs: dict[str, Any]) -> Any:
        """Set emulator knobs, kept across resets."""
        self.knobs.setdefault(name, {}).update(knobs)
        return self.admin(name, "POST", "config", knobs)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Requests between two counter snapshots: per emulator, total and by endpoint."""
    out: dict[str, Any] = {}
    for name, now in after.items():
        then = before.get(name, {})
        by = {k: v - then.get(k, 0) for k, v in now.items() if v - then.get(k, 0)}
        out[name] = {"total": sum(by.values()), "by_endpoint": by}
    return out
