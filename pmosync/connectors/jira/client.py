"""The Jira HTTP side: the real ``jira`` client with our policy mounted under it.

One :class:`JiraClient` per connection. It owns auth, deployment detection, the API user's
time zone and issue search paged as generators (Cloud ``/search/jql`` with ``nextPageToken``,
Data Center ``/search`` with ``startAt``). Every library exception leaves this module as one
of our errors, with a message that names the call but never the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError

from pmosync.config.connections.jira import JiraConnection
from pmosync.connectors.base import paginate
from pmosync.connectors.http import (
    RETRIABLE_EXCEPTIONS,
    Action,
    HttpPolicy,
    PolicyAdapter,
    classify_status,
    error_for,
    mount_policy,
)
from pmosync.errors import (
    AuthError,
    ConfigError,
    FatalConnectorError,
    PmoSyncError,
    RetriableError,
    SkippableRecordError,
)
from pmosync.redact import register_basic_auth

log = logging.getLogger(__name__)
T = TypeVar("T")

# search/jql guarantees read-after-write for at most this many ids [SPEC].
RECONCILE_MAX = 50
# A trailing ORDER BY (outside quotes), dropped when a query is narrowed to some ids.
ORDER_BY = re.compile(r"\s+ORDER\s+BY\s+[^\"']*$", re.IGNORECASE)
# A DC listing that shifted under us while paging is read again, at most this often.
_MAX_RELISTS = 3


@dataclass(frozen=True)
class ServerInfo:
    deployment: str  # "cloud" | "datacenter"
    version: tuple[int, ...]
    api_version: str
    base_url: str

    @property
    def is_cloud(self) -> bool:
        return self.deployment == "cloud"


class JqlRefused(ConfigError):
    """Jira refused a search's JQL (400 on its first page): the query, not the data, is wrong."""


def jira_error_text(exc: JIRAError) -> str:
    """The server's own error message, without request/response headers (which hold the
    token: ``str(JIRAError)`` prints them)."""
    text = exc.text or ""
    if not text and exc.response is not None:
        try:
            text = exc.response.text
        except Exception:  # noqa: BLE001 - an undecodable body is just not shown
            text = ""
    return " ".join(str(text).split())[:300]


def translate(exc: BaseException, *, connection: str, what: str) -> PmoSyncError:
    """Map a jira/requests exception onto our hierarchy (token-free message)."""
    if isinstance(exc, PmoSyncError):
        return exc
    if isinstance(exc, JIRAError):
        status = exc.status_code
        text = jira_error_text(exc)
        if status is None:
            return FatalConnectorError(f"{what}: {text or 'no response'}", connection=connection)
        action = classify_status(status)
        if status == 401:
            return AuthError(
                f"{what}: HTTP 401, the server rejected the credentials (check the token and, on"
                " Cloud, the email)",
                connection=connection,
            )
        if status == 403 and action is Action.CONFIG:
            return ConfigError(
                f"{what}: HTTP 403, the API user lacks a permission ({text})",
                connection=connection,
            )
        return error_for(action, f"{what}: HTTP {status} {text}".rstrip(), connection=connection)
    if isinstance(exc, requests.exceptions.RetryError):
        return RetriableError(f"{what}: gave up after repeated retries", connection=connection)
    if isinstance(exc, RETRIABLE_EXCEPTIONS):
        return RetriableError(
            f"{what}: {type(exc).__name__} (server unreachable or connection dropped)",
            connection=connection,
        )
    if isinstance(exc, requests.RequestException):
        return FatalConnectorError(f"{what}: {type(exc).__name__}", connection=connection)
    return FatalConnectorError(f"{what}: {type(exc).__name__}: {exc}", connection=connection)


class JiraClient:
    """Wraps ``jira.JIRA`` for one connection.

    The library's own retry loop is off (``max_retries=0``); our :class:`PolicyAdapter` is
    mounted on its session instead, so 429 Retry-After, 5xx and dropped connections are
    handled in one place for every connector.
    """

    def __init__(
        self,
        name: str,
        config: JiraConnection,
        *,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.name = name
        self.config = config
        token = config.token.resolve("Jira API token", connection=name)
        self.policy = policy or HttpPolicy(
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.timeout_seconds,
            requests_per_second=config.requests_per_second,
            burst=max(1, int(config.requests_per_second)),
            max_attempts=config.max_attempts,
            max_total_wait=config.max_retry_wait_seconds,
            max_retry_after=config.max_retry_after_seconds,
        )
        ca_bundle = str(config.ca_bundle) if config.ca_bundle else None
        start_version = "3" if config.deployment == "cloud" and config.api_version != "2" else "2"
        if config.api_version == "3":
            start_version = "3"
        options: dict[str, Any] = {"rest_api_version": start_version, "verify": ca_bundle or True}
        auth: dict[str, Any] = (
            {"basic_auth": (config.email, token)} if config.email else {"token_auth": token}
        )
        if config.email:
            register_basic_auth(config.email, token)  # the header JIRAError would print
        # get_server_info=False: the constructor's serverInfo call would run before our
        # policy (and its CA) is mounted; we make that call ourselves right after.
        self.jira = JIRA(
            server=config.url.rstrip("/"),
            options=options,
            max_retries=0,
            timeout=(config.connect_timeout_seconds, config.timeout_seconds),
            get_server_info=False,
            **auth,
        )
        del token
        self.adapter: PolicyAdapter = mount_policy(
            self.jira._session, self.policy, ca_bundle=ca_bundle
        )
        self._info: ServerInfo | None = None
        self._myself: dict[str, Any] | None = None

    # -- plumbing ------------------------------------------------------------------------
    @contextmanager
    def call(self, what: str) -> Iterator[None]:
        """Translate whatever the library raises inside the block."""
        try:
            yield
        except PmoSyncError:
            raise
        except Exception as exc:  # noqa: BLE001 - every library failure is mapped, none leaks
            raise translate(exc, connection=self.name, what=what) from None

    @contextmanager
    def _refusals(self, jql: str, *, first: bool) -> Iterator[None]:
        """A 4xx on a search's first page means the JQL is wrong (a configuration problem);
        on a later page the listing went stale (an expired page token): read it again later."""
        try:
            with self.call("search"):
                yield
        except SkippableRecordError as exc:
            if first:
                raise JqlRefused(
                    f"Jira refused the search {jql!r}: {exc}", connection=self.name
                ) from None
            raise RetriableError(
                f"a later page of the search {jql!r} was refused ({exc}); the listing is read "
                "again on the next run",
                connection=self.name,
            ) from None

    def api_calls(self) -> int:
        return self.adapter.stats.requests

    def url(self, path: str) -> str:
        """Platform REST URL in the API version in use (``issue/10001/properties``)."""
        return str(self.jira._get_url(path))

    def get_json(self, path: str, params: dict[str, Any] | None = None, *, what: str) -> Any:
        with self.call(what):
            return self.jira._get_json(path, params=params)

    # -- server ----------------------------------------------------------------------------
    def server_info(self) -> ServerInfo:
        """Detect Cloud vs Data Center from ``serverInfo`` and settle the API version."""
        if self._info is not None:
            return self._info
        with self.call("GET serverInfo"):
            raw = self.jira.server_info()
        if not isinstance(raw, dict) or "versionNumbers" not in raw:
            raise FatalConnectorError(
                "GET serverInfo: reply has no versionNumbers; is this a Jira site?",
                connection=self.name,
            )
        reported = str(raw.get("deploymentType") or "Server")
        deployment = "cloud" if reported == "Cloud" else "datacenter"
        if self.config.deployment != "auto" and self.config.deployment != deployment:
            raise ConfigError(
                f"configured deployment {self.config.deployment} but the server reports "
                f"deploymentType {reported}",
                connection=self.name,
            )
        api_version = self.config.api_version
        if api_version == "auto":
            api_version = "3" if deployment == "cloud" else "2"
        if deployment == "datacenter" and api_version == "3":
            raise ConfigError("Jira Data Center has no REST API v3", connection=self.name)
        # The library keys Cloud behaviour (search/jql, accountId) on this attribute, which
        # its constructor would have set from the same reply.
        self.jira.deploymentType = raw.get("deploymentType")
        self.jira._version = tuple(int(v) for v in raw["versionNumbers"])
        # Resources share this options dict, so every later call uses the settled version.
        self.jira._options["rest_api_version"] = api_version
        self._info = ServerInfo(
            deployment=deployment,
            version=self.jira._version,
            api_version=api_version,
            base_url=str(raw.get("baseUrl") or self.config.url),
        )
        return self._info

    def myself(self) -> dict[str, Any]:
        """The API user (also the first authenticated call: a bad token fails here)."""
        if self._myself is None:
            self.server_info()
            with self.call("GET myself"):
                self._myself = dict(self.jira.myself())
        return self._myself

    def time_zone(self) -> ZoneInfo:
        """The zone JQL dates are read in: the API user's profile zone.

        An unknown zone is a configuration problem (set ``time_zone`` on the connection):
        guessing would silently skip updates.
        """
        name = self.config.time_zone or self.myself().get("timeZone")
        if not name:
            raise ConfigError(
                "the API user's profile has no time zone and none is configured; set "
                "time_zone on the connection so JQL dates are read correctly",
                connection=self.name,
            )
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"the API user's time zone {name!r} is unknown here; set time_zone on the "
                "connection",
                connection=self.name,
            ) from None

    def fields(self) -> list[dict[str, Any]]:
        with self.call("GET field"):
            fields = list(self.jira.fields())
        # Prime the library's JQL-name cache from the same reply, so its first search does
        # not fetch /field a second time.
        cache: dict[str, str] = {}
        for field in fields:
            for clause in field.get("clauseNames") or []:
                cache[clause] = field["id"]
        self.jira._fields_cache_value = cache
        return fields

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        expand: str | None = None,
        reconcile: Sequence[str] = (),
        page_size: int | None = None,
        properties: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every issue matching ``jql``, as raw JSON, page by page (a generator)."""
        info = self.server_info()
        size = page_size or self.config.page_size
        if info.is_cloud:
            yield from self._search_cloud(jql, list(fields), expand, reconcile, size, properties)
        else:
            yield from self._search_dc(jql, list(fields), expand, size, properties)

    def _search_cloud(
        self,
        jql: str,
        fields: list[str],
        expand: str | None,
        reconcile: Sequence[str],
        size: int,
        properties: str | None,
    ) -> Iterator[dict[str, Any]]:
        # reconcileIssues makes a search read-after-write consistent for at most 50 ids
        # (developer.atlassian.com/cloud/jira/platform/search-and-reconcile). The newest 50
        # ride on the search itself; each further 50 get a small search of their own, the
        # same JQL narrowed to them, and the main listing skips their (maybe stale) versions.
        # Without that, an issue we wrote would come back with its old values and read as a
        # person's edit.
        ids = list(dict.fromkeys(int(i) for i in reconcile if str(i).isdigit()))
        head, extra = ids[-RECONCILE_MAX:], ids[:-RECONCILE_MAX]
        others = set(extra)
        for issue in self._search_pages(jql, fields, expand, head, size, properties):
            if int(issue.get("id") or 0) not in others:
                yield issue
        narrow = ORDER_BY.sub("", jql).strip()
        for start in range(0, len(extra), RECONCILE_MAX):
            chunk = extra[start : start + RECONCILE_MAX]
            listed = ", ".join(str(i) for i in chunk)
            scoped = f"({narrow}) AND id in ({listed})" if narrow else f"id in ({listed})"
            yield from self._search_pages(scoped, fields, expand, chunk, size, properties)

    def _search_pages(
        self,
        jql: str,
        fields: list[str],
        expand: str | None,
        reconcile: list[int],
        size: int,
        properties: str | None,
    ) -> Iterator[dict[str, Any]]:
        def fetch(token: str | None) -> tuple[list[dict[str, Any]], str | None]:
            with self._refusals(jql, first=token is None):
                page = self.jira.enhanced_search_issues(
                    jql,
                    nextPageToken=token,
                    maxResults=size,
                    fields=list(fields),
                    expand=expand,
                    reconcileIssues=reconcile or None,
                    properties=properties,
                    json_result=True,
                )
            if not isinstance(page, dict):
                raise FatalConnectorError(
                    "search/jql: no JSON object in the reply", connection=self.name
                )
            return list(page.get("issues") or []), page.get("nextPageToken") or None

        yield from paginate(fetch, what=f"[{self.name}] search/jql")

    def _search_dc(
        self,
        jql: str,
        fields: list[str],
        expand: str | None,
        size: int,
        properties: str | None,
    ) -> Iterator[dict[str, Any]]:
        # Offset paging over a live, updated-ordered listing: an issue edited while we page
        # moves to the end and shifts the rest one place back, so one issue would be skipped.
        # The reply's total says how many distinct issues we must have seen; when we saw
        # fewer, the listing is read again (issues already yielded are not yielded twice).
        yielded: set[tuple[str, str]] = set()  # (id, updated): a newer version still counts
        for _ in range(_MAX_RELISTS + 1):
            seen: set[str] = set()
            total = 0

            def fetch(start: int | None) -> tuple[list[dict[str, Any]], int | None]:
                nonlocal total
                offset = start or 0
                with self._refusals(jql, first=offset == 0):
                    page = self.jira.search_issues(
                        jql,
                        startAt=offset,
                        maxResults=size,
                        fields=list(fields),
                        expand=expand,
                        properties=properties,
                        json_result=True,
                    )
                issues = list(page.get("issues") or [])
                total = int(page.get("total") or 0)
                echoed = int(page.get("maxResults") or size)
                nxt = offset + len(issues)
                # Only a full page (by the server's own clamp) may have a successor.
                more = bool(issues) and len(issues) >= echoed and nxt < total
                return issues, (nxt if more else None)

            for issue in paginate(fetch, what=f"[{self.name}] search"):
                issue_id = str(issue.get("id"))
                seen.add(issue_id)
                version = (issue_id, str((issue.get("fields") or {}).get("updated")))
                if version in yielded:
                    continue
                yielded.add(version)
                yield issue
            if len(seen) >= total:
                return
            log.info(
                "%s: listing shifted while paging (%d of %d); reading again",
                self.name,
                len(seen),
                total,
            )
        raise RetriableError(
            "search: the listing kept changing while it was paged; try again later",
            connection=self.name,
        )

    def close(self) -> None:
        self.jira.close()


def retry_without(
    func: Callable[[], T], fallback: Callable[[], T], *, statuses: tuple[int, ...]
) -> T:
    """Call ``func``; on a JIRAError with one of ``statuses`` call ``fallback`` instead."""
    try:
        return func()
    except JIRAError as exc:
        if exc.status_code in statuses:
            return fallback()
        raise
