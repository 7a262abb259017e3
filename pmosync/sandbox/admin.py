"""What every emulator shares: request counters, fault injection and the admin endpoints.

Admin endpoints live under ``/_admin`` and are not counted:
``GET /_admin/counters``, ``POST /_admin/faults`` (JSON body, see :class:`FaultInjector.set`),
``DELETE /_admin/faults``, ``POST /_admin/reset``, ``POST /_admin/config`` (emulator knobs).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request


@dataclass
class Burst:
    """Answer the next ``count`` matching requests with ``status``."""

    status: int
    count: int
    retry_after: int | None = None
    path_prefix: str = ""
    body: Any = None
    method: str = ""  # only requests of this method ("PATCH"): a write refused, reads fine
    seconds: float = 0.0  # a stall: how long the request hangs before the server handles it

    def matches(self, path: str, method: str) -> bool:
        """``method`` "" is any request, "WRITE" any but GET/HEAD, else that method."""
        if self.count <= 0 or not path.startswith(self.path_prefix):
            return False
        if self.method.upper() == "WRITE":
            return method.upper() not in ("GET", "HEAD")
        return not self.method or self.method.upper() == method.upper()


@dataclass
class FaultInjector:
    latency: float = 0.0
    bursts: list[Burst] = field(default_factory=list)
    drops: int = 0
    drop_path_prefix: str = ""
    drop_method: str = ""  # as Burst.method
    # requests that hang ``seconds`` before the server handles them (a client timeout; the
    # server still applies the request after the client gave up)
    stalls: list[Burst] = field(default_factory=list)
    # responses lost AFTER the request was applied (a proxy or network cut on the way back):
    # the client cannot tell a write that landed from one that did not
    lost: list[Burst] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, spec: dict[str, Any]) -> None:
        """Add faults: ``{"latency_ms": 50, "burst": {"status": 429, "count": 3,
        "retry_after": 1, "path_prefix": "/v0"}, "drop": {"count": 2, "path_prefix": ""}}``."""
        with self.lock:
            if "latency_ms" in spec:
                self.latency = float(spec["latency_ms"]) / 1000
            if "burst" in spec:
                self.bursts.append(Burst(**spec["burst"]))
            if "drop" in spec:
                self.drops = int(spec["drop"].get("count", 1))
                self.drop_path_prefix = spec["drop"].get("path_prefix", "")
                self.drop_method = spec["drop"].get("method", "")
            if "stall" in spec:  # {"count": 1, "seconds": 5, "path_prefix": "", "method": ""}
                self.stalls.append(Burst(status=0, **spec["stall"]))
            if "lose_response" in spec:  # {"count": 1, "path_prefix": "/v0", "method": "PATCH"}
                self.lost.append(Burst(status=0, **spec["lose_response"]))

    def clear(self) -> None:
        with self.lock:
            self.latency = 0.0
            self.bursts.clear()
            self.drops = 0
            self.drop_method = ""
            self.lost.clear()
            self.stalls.clear()

    def take_drop(self, path: str, method: str = "") -> bool:
        drop = Burst(0, self.drops, path_prefix=self.drop_path_prefix, method=self.drop_method)
        with self.lock:
            if drop.matches(path, method):
                self.drops -= 1
                return True
            return False

    def take_lost(self, path: str, method: str) -> bool:
        return self._take(self.lost, path, method) is not None

    def take_stall(self, path: str, method: str) -> Burst | None:
        return self._take(self.stalls, path, method)

    def take_burst(self, path: str, method: str = "") -> Burst | None:
        found = self._take(self.bursts, path, method)
        with self.lock:
            self.bursts = [b for b in self.bursts if b.count > 0]
        return found

    def _take(self, faults: list[Burst], path: str, method: str) -> Burst | None:
        with self.lock:
            for fault in faults:
                if fault.matches(path, method):
                    fault.count -= 1
                    return fault
            return None


@dataclass
class RequestCounters:
    by_endpoint: Counter[str] = field(default_factory=Counter)
    # every request that may change state, by method, path and a digest of its body: the same
    # write made twice (the reliability suite's "no double writes") shows as a count of 2
    writes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> None:
        with self.lock:
            self.by_endpoint[key] += 1

    def wrote(self, method: str, path: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()[:16]
        with self.lock:
            self.writes[f"{method} {path} {digest}"] += 1

    def total(self) -> int:
        with self.lock:
            return sum(self.by_endpoint.values())

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.by_endpoint.values()),
                "by_endpoint": dict(self.by_endpoint),
                "writes": dict(self.writes),
            }

    def clear(self) -> None:
        with self.lock:
            self.by_endpoint.clear()
            self.writes.clear()


# Attributes of an emulator holding its seeded data (Airtable's bases, Jira's and Project
# Server's state objects), snapshotted by mark_seed.
SEED_ATTRS = ("bases", "state")


class DroppedConnection(Exception):
    """Raised inside a request to cut the TCP connection with no response."""


def drop_connection() -> Response:
    """Close the client's socket without an HTTP answer (what a crashed proxy does)."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise DroppedConnection()


class EmulatorBase:
    """Stateful emulator: subclasses register routes and seed state."""

    kind = "base"

    def __init__(self) -> None:
        self.faults = FaultInjector()
        self.counters = RequestCounters()
        self.lock = threading.RLock()

    # -- hooks for subclasses -------------------------------------------------------------
    def register_routes(self, app: Flask) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the seeded state."""

    def mark_seed(self) -> None:
        """Remember the seeded data as the scenario left it (the harness calls this once the
        scenario has finished seeding): ``/_admin/reset`` comes back here, not to the bare
        seed the emulator was built from (scenarios align codes, add links, set up status
        issues after building)."""
        with self.lock:
            self._scenario_seed = {
                attr: copy.deepcopy(getattr(self, attr))
                for attr in SEED_ATTRS
                if hasattr(self, attr)
            }

    def restore_seed(self) -> None:
        """After :meth:`reset`: the scenario's seed, in place (views hold the state object)."""
        with self.lock:
            for attr, snapshot in getattr(self, "_scenario_seed", {}).items():
                current, fresh = getattr(self, attr), copy.deepcopy(snapshot)
                if isinstance(current, dict):
                    current.clear()
                    current.update(fresh)
                else:
                    current.__dict__.clear()
                    current.__dict__.update(fresh.__dict__)

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        """Emulator-specific settings (rate limits, TTLs, lag); returns the current ones."""
        return {}

    def fault_response(self, burst: Burst) -> Response:
        """The body a burst answers with; emulators override to use their vendor's shape."""
        response = jsonify(burst.body if burst.body is not None else {"error": "injected"})
        response.status_code = burst.status
        return response

    # -- app ------------------------------------------------------------------------------
    def build_app(self) -> Flask:
        app = Flask(f"pmosync-sandbox-{self.kind}")
        app.config["JSON_SORT_KEYS"] = False
        app.json.sort_keys = False  # type: ignore[attr-defined]
        emulator = self

        @app.before_request
        def _faults() -> Response | None:
            if request.path.startswith("/_admin"):
                return None
            rule = request.url_rule.rule if request.url_rule else request.path
            emulator.counters.hit(f"{request.method} {rule}")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                emulator.counters.wrote(
                    request.method, request.full_path, request.get_data(cache=True)
                )
            if emulator.faults.latency:
                time.sleep(emulator.faults.latency)
            stall = emulator.faults.take_stall(request.path, request.method)
            if stall is not None:
                time.sleep(stall.seconds)
            if emulator.faults.take_drop(request.path, request.method):
                return drop_connection()
            burst = emulator.faults.take_burst(request.path, request.method)
            if burst is not None:
                response = emulator.fault_response(burst)
                if burst.retry_after is not None:
                    response.headers["Retry-After"] = str(burst.retry_after)
                return response
            return None

        @app.after_request
        def _lose_response(response: Response) -> Response:
            if not request.path.startswith("/_admin") and emulator.faults.take_lost(
                request.path, request.method
            ):
                # the request was applied; its answer never reaches the client
                sock = request.environ.get("werkzeug.socket")
                if isinstance(sock, socket.socket):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
            return response

        @app.get("/_admin/counters")
        def _counters() -> Response:
            return jsonify(emulator.counters.snapshot())

        @app.post("/_admin/faults")
        def _set_faults() -> Response:
            emulator.faults.set(request.get_json(force=True) or {})
            return jsonify({"ok": True})

        @app.delete("/_admin/faults")
        def _clear_faults() -> Response:
            emulator.faults.clear()
            return jsonify({"ok": True})

        @app.post("/_admin/reset")
        def _reset() -> Response:
            emulator.faults.clear()
            emulator.counters.clear()
            emulator.reset()
            emulator.restore_seed()
            return jsonify({"ok": True})

        @app.post("/_admin/config")
        def _config() -> Response:
            return jsonify(emulator.configure(request.get_json(force=True) or {}))

        @app.errorhandler(DroppedConnection)
        def _dropped(_: DroppedConnection) -> Response:
            return Response(status=500)

        self.register_routes(app)
        return app
