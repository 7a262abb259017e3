"""Airtable's rate limit (§3.7): a sliding one-second window per base and per token; a breach
starts a penalty window (30 s by default) during which every request for that key gets 429."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._windows: dict[str, deque[float]] = {}
        self._penalty_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.refused = 0  # requests answered 429, for tests of a client's pacing

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
            self._penalty_until.clear()
            self.refused = 0

    def allow(self, limits: list[tuple[str, int]], lockout: float) -> bool:
        """Count one request against every ``(key, per-second limit)``; False means 429."""
        with self._lock:
            now = self.clock()
            if any(self._penalty_until.get(key, 0.0) > now for key, _ in limits):
                self.refused += 1
                return False
            for key, limit in limits:
                window = self._windows.setdefault(key, deque())
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) >= limit:
                    self._penalty_until[key] = now + lockout
                    self.refused += 1
                    return False
            for key, _ in limits:
                self._windows[key].append(now)
            return True

    def locked(self, key: str) -> bool:
        with self._lock:
            return self._penalty_until.get(key, 0.0) > self.clock()
