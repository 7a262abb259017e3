"""The one HTTP policy layer every connection goes through.

Client libraries (pyairtable, jira, msal) keep their own sessions; we mount a
:class:`PolicyAdapter` on them and switch their own retry loops off, so timeouts, pacing,
retries and the meaning of each status code live here and nowhere else.
"""

from __future__ import annotations

import email.utils
import enum
import random
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
)

from pmosync.errors import (
    AuthError,
    ConfigError,
    FatalConnectorError,
    PmoSyncError,
    RetriableError,
    SkippableRecordError,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Action(enum.Enum):
    """What the caller should do with a response or exception."""

    OK = "ok"
    RETRY = "retry"
    SKIP = "skip"  # this record only
    AUTH = "auth"  # a human must fix credentials
    CONFIG = "config"  # a human must fix configuration or permissions
    FAIL = "fail"  # this connection stops for this run


# The single table that says what a status means. Connectors may add entries (for example
# PWA's 403 for "checked out" is a conflict, not a permission problem) through ``overrides``.
STATUS_ACTIONS: Mapping[int, Action] = {
    400: Action.SKIP,
    401: Action.AUTH,
    403: Action.CONFIG,
    404: Action.SKIP,
    409: Action.SKIP,
    410: Action.FAIL,
    413: Action.SKIP,
    422: Action.SKIP,
    429: Action.RETRY,
    500: Action.RETRY,
    502: Action.RETRY,
    503: Action.RETRY,
    504: Action.RETRY,
}

RETRIABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
)


def classify_status(status: int, overrides: Mapping[int, Action] | None = None) -> Action:
    """Map an HTTP status to an :class:`Action` using the table above."""
    if overrides and status in overrides:
        return overrides[status]
    if status < 400:
        return Action.OK
    if status in STATUS_ACTIONS:
        return STATUS_ACTIONS[status]
    return Action.RETRY if status >= 500 else Action.FAIL


def error_for(
    action: Action, message: str, *, connection: str | None = None, record: str | None = None
) -> PmoSyncError:
    """Build the exception of the hierarchy that matches an action."""
    cls: type[PmoSyncError] = {
        Action.RETRY: RetriableError,
        Action.SKIP: SkippableRecordError,
        Action.AUTH: AuthError,
        Action.CONFIG: ConfigError,
        Action.FAIL: FatalConnectorError,
        Action.OK: FatalConnectorError,
    }[action]
    return cls(message, connection=connection, record=record)


def translate_exception(exc: BaseException, *, connection: str, what: str) -> PmoSyncError:
    """Turn a client library's exception into one of ours, keeping the message short and
    free of secrets (URLs can carry tokens in query strings, so only the path is named)."""
    if isinstance(exc, PmoSyncError):
        return exc
    host = _host(exc)
    if isinstance(exc, requests.exceptions.RetryError):
        return RetriableError(
            f"{what}: gave up after repeated retries{host}", connection=connection
        )
    if isinstance(exc, RETRIABLE_EXCEPTIONS):
        return RetriableError(
            f"{what}: {type(exc).__name__}{host} (server unreachable or connection dropped)",
            connection=connection,
        )
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
    if isinstance(status, int):
        detail = _short_body(response)
        action = classify_status(status)
        return error_for(action, f"{what}: HTTP {status} {detail}".rstrip(), connection=connection)
    return FatalConnectorError(f"{what}: {type(exc).__name__}: {exc}", connection=connection)


def _host(exc: BaseException) -> str:
    """' at host:port' of the failed request: enough to tell which server, never the path or
    query string (which can carry tokens)."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    if not isinstance(url, str):
        return ""
    netloc = urlsplit(url).netloc.rpartition("@")[2]  # never user:password@
    return f" at {netloc}" if netloc else ""


def _short_body(response: Any) -> str:
    if response is None:
        return ""
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - a body we cannot decode is just not shown
        return ""
    return text[:300]


class TokenBucket:
    """Paces requests under an API's rate limit (thread-safe).

    ``burst=1`` spaces requests evenly, which is what a sliding one-second window (Airtable)
    needs: a full bucket followed by a refill would put twice the rate into one window.

    Even spacing alone is not enough: the server counts requests where they *arrive*, and
    requests sent exactly 1/rate apart arrive jittered, so the (n+1)th can land less than a
    second after the first, and Airtable answers that with 429 and a 30 s lock-out (issue #13
    measured 16 of them at 5/s). So with ``burst=1`` a request goes out only when the n-th
    request before it (``n = floor(rate)``) had its answer ``n / rate + margin`` seconds ago:
    a request arrives before its answer and after it is sent, so any n + 1 requests then
    arrive more than ``n / rate`` seconds apart, whatever the latency and its jitter
    (``done()`` records the answer). A bucket with a larger burst (APIs that allow bursts)
    keeps its pace.
    """

    def __init__(
        self, rate: float, burst: int = 1, clock: Any = time.monotonic, margin: float = 0.0
    ) -> None:
        self.rate = rate
        self.burst = burst
        # Start empty: the previous run (another process) may have just spent this second's
        # budget, and the server's window does not know our runs apart.
        self._tokens = 0.0
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()
        self._window_size = max(1, int(rate))
        self._window = self._window_size / rate + margin
        # the last n requests: when each was answered (when it was sent, while in flight)
        self._sent: deque[list[float]] = deque(maxlen=self._window_size)
        self._mine = threading.local()  # the request this thread sent last

    def acquire(self) -> float:
        """Take one token, sleeping until there is one. Returns the time slept."""
        with self._lock:  # sleeping under the lock makes concurrent callers queue in order
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                time.sleep(wait)
                now = self._clock()
                self._tokens += (now - self._last) * self.rate
                self._last = now
            if self.burst == 1 and len(self._sent) == self._window_size:
                # the oldest of the last n requests must have been answered a window ago
                late = self._sent[0][0] + self._window - now
                if late > 0:
                    time.sleep(late)
                    wait += late
                    now = self._clock()
                    self._tokens += (now - self._last) * self.rate
                    self._last = now
            self._tokens -= 1
            self._mine.cell = [now]
            self._sent.append(self._mine.cell)
            return wait

    def done(self) -> None:
        """The request this thread took a token for has its answer (or failed): it reached
        the server, if at all, by now."""
        cell = getattr(self._mine, "cell", None)
        if cell is not None:
            cell[0] = self._clock()  # one item store: atomic, no lock needed
            self._mine.cell = None

    def penalise(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (after a 429 lock-out)."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, pacing and retry budget of one connection."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    requests_per_second: float | None = None
    burst: int = 1
    # Slack on the one-second window the pacing keeps between a request's answer and the
    # n-th request after it (see TokenBucket): server clock granularity, not network jitter.
    window_margin_seconds: float = 0.02
    max_attempts: int = 6
    max_total_wait: float = 180.0
    max_backoff: float = 60.0
    # First wait after a 429 that carries no Retry-After (Airtable locks a base out for 30 s).
    # Repeated ones double it, plus up to 25 % jitter and never below it: Atlassian says
    # Retry-After is optional on a 429 and asks for exponential backoff with jitter
    # (developer.atlassian.com/cloud/jira/platform/rate-limiting/).
    lockout_seconds: float = 1.0
    # A Retry-After is honoured in full up to this many seconds; a longer one ends the
    # request with a RetriableError instead of a retry before the server said so (Microsoft
    # and Atlassian both extend throttling for clients that retry early; Microsoft's page
    # "Avoid getting throttled or blocked in SharePoint Online" on learn.microsoft.com).
    max_retry_after: float = 300.0
    # Writes we made idempotent (upsert on a merge key) may be retried after a 5xx.
    retry_writes: bool = False
    status_overrides: Mapping[int, Action] = field(default_factory=dict)


@dataclass
class CallStats:
    """Requests a connection made, for the run report and the benchmarks."""

    requests: int = 0
    retries: int = 0
    slept: float = 0.0
    by_status: Counter[int] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    # seconds waited, by why: the run report says how long a run waited and for what
    waited: dict[str, float] = field(default_factory=lambda: defaultdict(float))


# Why a request waited (CallStats.waited keys, shown in the run report).
WAIT_PACING = "pacing"  # the rate limit the connection keeps
WAIT_RETRY_AFTER = "Retry-After"  # the server said how long
WAIT_BACKOFF_429 = "429 backoff"  # throttled without Retry-After: exponential, jittered
WAIT_BACKOFF_ERROR = "error backoff"  # a dropped connection or a 5xx


def retry_after_seconds(response: requests.Response) -> float | None:
    """Read Retry-After as seconds (integer or HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class PolicyAdapter(HTTPAdapter):
    """requests transport adapter that applies an :class:`HttpPolicy` to every request."""

    def __init__(
        self, policy: HttpPolicy, *, ca_bundle: str | None = None, sleep: Any = time.sleep
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.policy = policy
        self._sleep = sleep  # tests pass a recorder so that a 120 s Retry-After takes no time
        self._lockouts = 0  # consecutive 429s without Retry-After, for the exponential backoff
        self.ca_bundle = ca_bundle
        self.stats = CallStats()
        self._bucket = (
            TokenBucket(
                policy.requests_per_second, policy.burst, margin=policy.window_margin_seconds
            )
            if policy.requests_per_second
            else None
        )
        self._stats_lock = threading.Lock()
        self._penalty_unserved = 0.0  # 429 waits handed to the bucket, not slept yet

    def note_wait(self, reason: str, seconds: float) -> None:
        """Count a wait that is no HTTP retry (a queue job polled, a search that lags) with
        the connection's other waits, for the run report."""
        with self._stats_lock:
            self.stats.waited[reason] += seconds

    def _retriable_response(self, method: str, response: requests.Response) -> bool:
        action = classify_status(response.status_code, self.policy.status_overrides)
        if action is not Action.RETRY:
            return False
        if self._over_ceiling(response) is not None:
            return False  # send() fails cleanly rather than retry before the server said so
        # A 429, or a 503 with Retry-After (SharePoint's throttling answer), means the server
        # refused before doing anything; any other 5xx may have been half-done, so only repeat
        # what repeating cannot duplicate.
        throttled = response.status_code == 429 or (
            response.status_code == 503 and retry_after_seconds(response) is not None
        )
        return throttled or method in SAFE_METHODS or self.policy.retry_writes

    def _over_ceiling(self, response: requests.Response) -> float | None:
        """The Retry-After of a throttling answer when it exceeds the policy's ceiling."""
        if response.status_code not in (429, 503):
            return None
        wait = retry_after_seconds(response)
        return wait if wait is not None and wait > self.policy.max_retry_after else None

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        response = None if outcome is None or outcome.failed else outcome.result()
        wait: float | None = None
        reason = WAIT_BACKOFF_ERROR
        if response is not None:
            wait = retry_after_seconds(response)  # in full: it is under the ceiling here
            reason = WAIT_RETRY_AFTER
            if wait is None and response.status_code == 429:
                self._lockouts += 1
                delay = self.policy.lockout_seconds * 2 ** (self._lockouts - 1)
                delay = max(self.policy.lockout_seconds, min(delay, self.policy.max_backoff))
                wait = delay * random.uniform(1.0, 1.25)  # jitter only upwards: never early
                reason = WAIT_BACKOFF_429
        if wait is None:
            base = min(self.policy.max_backoff, 0.5 * 2 ** (state.attempt_number - 1))
            wait = random.uniform(0, base)  # full jitter: many workers must not retry in step
            reason = WAIT_BACKOFF_ERROR
        with self._stats_lock:
            self.stats.retries += 1
            self.stats.waited[reason] += wait
            if response is not None and response.status_code == 429 and self._bucket:
                # the bucket now holds every thread back, this one included: the next pacing
                # sleeps serve this wait, and are counted here rather than as pacing
                self._bucket.penalise(wait)
                self._penalty_unserved += wait
                return 0.0
            self.stats.slept += wait
        return wait

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        method = (request.method or "GET").upper()
        if not (request.url or "").lower().startswith("https://"):
            # Every connection sends a token or a password: never in clear text, even when a
            # server answers with a redirect to http:// (the config already refuses http URLs).
            host = urlsplit(request.url or "").netloc.rpartition("@")[2]
            raise ConfigError(
                f"refusing to send a request over plain HTTP to {host}: pmo-sync talks TLS only"
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout, self.policy.read_timeout)
        if self.ca_bundle:
            # REQUESTS_CA_BUNDLE in the environment would otherwise replace the session's
            # verify setting; the connection's own CA wins. Verification is never switched off.
            kwargs["verify"] = self.ca_bundle
        elif kwargs.get("verify") is False:
            kwargs["verify"] = True

        def attempt() -> requests.Response:
            if self._bucket:
                slept = self._bucket.acquire()
                if slept:
                    with self._stats_lock:
                        self.stats.slept += slept
                        served = min(slept, self._penalty_unserved)
                        self._penalty_unserved -= served
                        if slept > served:
                            self.stats.waited[WAIT_PACING] += slept - served
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.by_method[method] += 1
            try:
                response = super(PolicyAdapter, self).send(request, **kwargs)
            finally:
                if self._bucket:
                    self._bucket.done()
            with self._stats_lock:
                self.stats.by_status[response.status_code] += 1
            return response

        def retry_exception(exc: BaseException) -> bool:
            if not isinstance(exc, RETRIABLE_EXCEPTIONS):
                return False
            # A failed connect never reached the server, so even a write can be repeated.
            connect_failure = isinstance(exc, requests.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
            )
            return connect_failure or method in SAFE_METHODS or self.policy.retry_writes

        def before_retry(state: RetryCallState) -> None:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                outcome.result().close()

        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_after_delay(self.policy.max_total_wait),
            wait=self._wait,
            retry=retry_if_result(lambda r: self._retriable_response(method, r))
            | retry_if_exception(retry_exception),
            before_sleep=before_retry,
            # Out of attempts: hand back the last response (the library raises its own error,
            # which translate_exception maps) or re-raise the last exception.
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
            sleep=self._sleep,
        )
        response = retrying(attempt)
        if response.status_code not in (429, 503) or retry_after_seconds(response) is None:
            self._lockouts = 0
        too_long = self._over_ceiling(response)
        if too_long is not None:
            host = urlsplit(request.url or "").netloc.rpartition("@")[2]
            response.close()
            raise RetriableError(
                f"{host} is throttling (HTTP {response.status_code}) and asked to wait "
                f"{too_long:g} s, more than the {self.policy.max_retry_after:g} s this "
                "connection waits (option max_retry_after_seconds); the request was not "
                "processed and is retried on the next run"
            )
        return response


def mount_policy(
    session: requests.Session,
    policy: HttpPolicy,
    *,
    ca_bundle: str | None = None,
    sleep: Any = time.sleep,
) -> PolicyAdapter:
    """Mount the policy on an existing session (a client library's own) and return it."""
    adapter = PolicyAdapter(policy, ca_bundle=ca_bundle, sleep=sleep)
    session.mount("https://", adapter)
    session.mount("http://", adapter)  # so that a plain-HTTP request is refused, not sent
    if ca_bundle:
        session.verify = ca_bundle
    return adapter


def note_wait(session: requests.Session, reason: str, seconds: float) -> None:
    """:meth:`PolicyAdapter.note_wait` for the adapter a session sends https through."""
    adapter = session.get_adapter("https://")
    if isinstance(adapter, PolicyAdapter):
        adapter.note_wait(reason, seconds)
