"""HTTP client for the PWA REST API: ``/_api/ProjectServer`` (read/write) and
``/_api/ProjectData`` (reporting, read-only).

It speaks ``requests`` through the shared policy layer (pacing, Retry-After on 429/503, TLS),
parses verbose and light OData, follows server-driven paging to the end with loop guards,
fetches a form digest when the auth is not a bearer token, runs the check-out → update →
publish flow with queue-job polling, and turns Project Server's 403 business errors into our
error hierarchy (a project checked out elsewhere is a conflict, not a permission problem).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from pmosync.config.connections.pwa import PwaConnection
from pmosync.connectors.base import paginate
from pmosync.connectors.http import note_wait
from pmosync.connectors.msproject import odata
from pmosync.connectors.msproject.auth import Credentials, login_command
from pmosync.connectors.msproject.rest import MicrosoftRestClient
from pmosync.errors import (
    AuthError,
    ConflictError,
    FatalConnectorError,
    PmoSyncError,
    RetriableError,
    SkippableRecordError,
)

log = logging.getLogger(__name__)

# QueueJob JobState (Microsoft.ProjectServer.JobState; api-wire-protocol §5.4). A Failed (5)
# job blocks every later job of its project, which then sits in CorrelationBlocked (8) until an
# administrator cancels the failed one; polling a blocked job only burns the budget.
JOB_SUCCESS = 4
JOB_FAILED_BLOCKING = 5
JOB_CORRELATION_BLOCKED = 8
JOB_FAILED = frozenset({5, 6, 9})  # Failed, FailedNotBlocking, Canceled
ADMIN_CLEARS = (
    "an administrator clears it in PWA → Server Settings → Manage Queue Jobs: select the "
    "failed job and choose Cancel Job; the project's writes are retried on the next run"
)
_JOB_NAMES = {
    "unknown": 0,
    "readyforprocessing": 1,
    "sendincomplete": 2,
    "processing": 3,
    "success": 4,
    "failed": 5,
    "failednotblocking": 6,
    "processingdeferred": 7,
    "correlationblocked": 8,
    "canceled": 9,
    "onhold": 10,
    "sleeping": 11,
    "readyforlaunch": 12,
}

CHECKED_OUT_ELSEWHERE = 10103  # CICOCheckedOutInOtherSession
WRITE_LOCK = 1030  # ProjectWriteLock: a queue job for the project is still running


class ProjectCheckedOutError(ConflictError):
    """The project is checked out in another session (PJClientCallableException 10103)."""


class ProjectWriteLockError(ConflictError):
    """A queue job still holds the project (PJClientCallableException 1030); wait and retry."""


class NotFoundError(SkippableRecordError):
    """404: the entity does not exist (ResourceNotFoundException)."""


class QueueJobFailedError(FatalConnectorError):
    """A queue job ended in Failed/Canceled."""


class QueueJobBlockedError(QueueJobFailedError):
    """A queue job is CorrelationBlocked (8) behind a failed job of the same project."""


def job_state(job: Mapping[str, Any]) -> int:
    value = job.get("JobState")
    if isinstance(value, str) and not value.isdigit():
        return _JOB_NAMES.get(value.lower(), 0)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


class PwaClient(MicrosoftRestClient):
    def __init__(
        self,
        name: str,
        config: PwaConnection,
        session: requests.Session,
        credentials: Credentials,
        *,
        sleep: Any = time.sleep,
    ) -> None:
        self.name = name
        self.config = config
        self.session = session
        self.credentials = credentials
        self.site = config.site_url
        self.project_server = f"{self.site}/_api/ProjectServer"
        self.project_data = f"{self.site}/_api/ProjectData"
        self.accept = odata.ACCEPT[config.odata]
        self.verbose = config.odata == "verbose"
        self.base_headers = {"Accept": self.accept}
        self._digest: tuple[str, float] | None = None
        self._sleep = sleep

    # -- transport -----------------------------------------------------------------------
    def _relative_url(self, path: str) -> str:
        return self.project_server + path

    def _complete_headers(self, method: str, url: str, body: Any, sent: dict[str, str]) -> None:
        if body is not None:
            sent["Content-Type"] = self.accept if self.verbose else "application/json"
        if method != "GET" and "contextinfo" not in url and "X-RequestDigest" not in sent:
            # SharePoint Online skips the digest check for bearer calls, but Project Server
            # farms and cookie/NTLM auth require it; one contextinfo call per 30 min is cheap.
            sent["X-RequestDigest"] = self.form_digest()

    def _retry_headers(
        self, response: requests.Response, headers: Mapping[str, str] | None
    ) -> Mapping[str, str] | None:
        if response.status_code == 403 and _digest_rejected(response):
            # the server forgot our digest (app pool recycle): fetch a new one, send again once
            self._digest = None
            return {**(headers or {}), "X-RequestDigest": self.form_digest(force=True)}
        return None

    def _error(self, response: requests.Response, what: str) -> PmoSyncError:
        status = response.status_code
        try:
            error = odata.parse_error(response.json())
        except ValueError:
            error = None
        path = urlsplit(response.url or "").path
        detail = f"{error.message} ({error.code})" if error else response.reason or ""
        where = f"{what}: HTTP {status} on {path}: {detail}".rstrip(": ")
        if status == 403 and error and "PJClientCallableException" in error.code:
            number, symbol = error.number, error.message
            if number == CHECKED_OUT_ELSEWHERE or "CICOCheckedOutInOtherSession" in symbol:
                return ProjectCheckedOutError(where, connection=self.name)
            if number == WRITE_LOCK or "ProjectWriteLock" in symbol:
                return ProjectWriteLockError(where, connection=self.name)
            return FatalConnectorError(
                f"{where} (Project Server refused the operation)", connection=self.name
            )
        if status == 401 and "Unsupported app only token" in response.text:
            # SharePoint Online refuses app-only tokens got with a client secret, and Project
            # Online takes no app-only token at all (docs/microsoft-project.md, Sign-in).
            return AuthError(
                f"{where}: the site refuses app-only tokens (Project Online accepts delegated "
                f"users only). Set `auth: device_code` and run `{login_command(self.name)}` "
                "once where you can open a browser",
                connection=self.name,
            )
        if status == 401:
            return AuthError(
                f"{where} (the token was rejected even after a refresh: check the app's API "
                "permissions and that scopes name this site's origin)",
                connection=self.name,
            )
        if status == 403:
            return AuthError(
                f"{where} (the signed-in account lacks a Project Server permission)",
                connection=self.name,
            )
        if status == 404:
            return NotFoundError(where, connection=self.name)
        if status == 429 or status >= 500:
            return RetriableError(f"{where} (gave up after retries)", connection=self.name)
        return FatalConnectorError(where, connection=self.name)

    def form_digest(self, *, force: bool = False) -> str:
        """``X-RequestDigest`` from ``/_api/contextinfo``; cached until shortly before expiry."""
        if self._digest and not force and time.monotonic() < self._digest[1]:
            return self._digest[0]
        response = self.request(
            "POST", f"{self.site}/_api/contextinfo", what="form digest", body=None
        )
        info = odata.unwrap(response.json())
        if isinstance(info, dict) and "GetContextWebInformation" in info:
            info = info["GetContextWebInformation"]
        value = info.get("FormDigestValue") if isinstance(info, dict) else None
        if not value:
            raise FatalConnectorError(
                "contextinfo returned no FormDigestValue", connection=self.name
            )
        lifetime = float(info.get("FormDigestTimeoutSeconds") or 1800)
        # Renew a minute early (or half-way for short-lived digests); a digest the server
        # forgot anyway (app pool recycle) is caught by the 403 retry in request().
        self._digest = (str(value), time.monotonic() + max(lifetime - 60, lifetime / 2))
        return self._digest[0]

    # -- reading -------------------------------------------------------------------------
    def get(self, path: str, *, what: str, params: Mapping[str, str] | None = None) -> Any:
        response = self.request("GET", path, what=what, params=params)
        try:
            return response.json()
        except ValueError:
            raise FatalConnectorError(
                f"{what}: the answer is not JSON (content type "
                f"{response.headers.get('Content-Type')!r})",
                connection=self.name,
            ) from None

    def entity(self, path: str, *, what: str, params: Mapping[str, str] | None = None) -> dict:
        try:
            return odata.entity(self.get(path, what=what, params=params))
        except ValueError as exc:
            raise FatalConnectorError(f"{what}: {exc}", connection=self.name) from None

    def collection(
        self, path: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``__next``/``odata.nextLink`` to the end."""
        first = self._url(path)

        def fetch(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            url = next_url or first
            response = self.request("GET", url, what=what, params=None if next_url else params)
            try:
                page = odata.page(response.json(), response.url or url)
            except ValueError as exc:
                raise FatalConnectorError(f"{what}: {exc}", connection=self.name) from None
            return page.items, page.next_url

        yield from paginate(fetch, what=f"[{self.name}] {what}")

    def data_url(self, entity_set: str) -> str:
        return f"{self.project_data}/{entity_set}"

    # -- writing -------------------------------------------------------------------------
    def post(self, path: str, *, what: str, body: Any = None) -> dict[str, Any] | None:
        response = self.request("POST", path, what=what, body=body)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return odata.entity(response.json())
        except ValueError:
            return None

    def merge(
        self, path: str, properties: Mapping[str, Any], *, entity_type: str, what: str
    ) -> None:
        body: dict[str, Any] = dict(properties)
        if self.verbose:
            body = {"__metadata": {"type": entity_type}, **body}
        self.request(
            "POST",
            path,
            what=what,
            body=body,
            headers={"X-HTTP-Method": "MERGE", "IF-MATCH": "*"},
        )

    def wait_for_job(
        self,
        project_id: str,
        job: Mapping[str, Any] | None,
        *,
        what: str,
        timeout: float | None = None,
    ) -> None:
        """Poll a queue job until Success; raise on Failed/Canceled or when the budget runs out.

        A job the server no longer knows (404) has finished and been cleaned up.
        """
        if not job or not job.get("Id"):
            return  # an operation that completed synchronously
        job_id = str(job["Id"])
        state = job_state(job)
        budget = self.config.queue_timeout_seconds if timeout is None else timeout
        deadline = time.monotonic() + budget
        path = f"/Projects{odata.key_segment(project_id)}/QueueJobs{odata.key_segment(job_id)}"
        polls = 0
        while state != JOB_SUCCESS:
            if state == JOB_FAILED_BLOCKING:
                raise QueueJobFailedError(
                    f"{what}: queue job {job_id} of project {project_id} failed (JobState 5); "
                    f"Project Server holds the project's later jobs until {ADMIN_CLEARS}",
                    connection=self.name,
                )
            if state == JOB_CORRELATION_BLOCKED:
                failed = self._failed_jobs(project_id)
                named = f"failed job {', '.join(failed)}" if failed else "a failed job"
                raise QueueJobBlockedError(
                    f"{what}: queue job {job_id} is blocked (JobState 8 CorrelationBlocked) "
                    f"behind {named} of project {project_id}; it will not run until "
                    f"{ADMIN_CLEARS}",
                    connection=self.name,
                )
            if state in JOB_FAILED:
                raise QueueJobFailedError(
                    f"{what}: queue job {job_id} ended in state {state}", connection=self.name
                )
            if time.monotonic() >= deadline:
                raise RetriableError(
                    f"{what}: queue job {job_id} still in state {state} after {budget:g} s",
                    connection=self.name,
                )
            self._sleep(self.config.queue_poll_seconds)
            note_wait(self.session, "queue jobs", self.config.queue_poll_seconds)
            polls += 1
            try:
                job = self.entity(path, what=f"{what} (queue job)")
            except NotFoundError:
                return
            state = job_state(job)
        log.debug("%s: queue job %s done after %d polls", what, job_id, polls)

    def _failed_jobs(self, project_id: str) -> list[str]:
        """Ids (and message types) of the project's Failed jobs, to name in the error; best
        effort: the error stands without them."""
        path = f"/Projects{odata.key_segment(project_id)}/QueueJobs"
        try:
            jobs = list(self.collection(path, what=f"failed queue jobs of {project_id}"))
        except PmoSyncError:
            return []
        return [
            f"{job.get('Id')} (message type {job.get('MessageType')})"
            for job in jobs
            if job_state(job) == JOB_FAILED_BLOCKING
        ]


def _digest_rejected(response: requests.Response) -> bool:
    """SharePoint's 403 for a missing/expired form digest ("security validation")."""
    try:
        error = odata.parse_error(response.json())
    except ValueError:
        return False
    return bool(error) and "security validation" in error.message.lower()  # type: ignore[union-attr]
