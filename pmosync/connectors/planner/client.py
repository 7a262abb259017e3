"""HTTP client for the Dataverse Web API (OData v4) of a Planner Premium environment.

``requests`` through the shared policy layer (timeouts, pacing, 429 + Retry-After), bearer
tokens from the shared msal module (delegated device-code sign-in, silent refresh). Reads follow
``@odata.nextLink`` to the end with loop guards, asking for pages with
``Prefer: odata.maxpagesize`` ("Page results",
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results).
Unbound actions (the Project schedule APIs) are POSTs to ``<api>/<ActionName>``
("Use Web API actions", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-actions).
Several queries can travel in one ``$batch`` request ("Execute batch operations using the Web
API", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api):
one round trip, answers in the order asked.
"""

from __future__ import annotations

import email
import email.message
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from pmosync.config.connections.planner import PlannerConnection
from pmosync.connectors.base import paginate
from pmosync.connectors.http import translate_exception
from pmosync.connectors.msproject.auth import Credentials
from pmosync.connectors.msproject.rest import MicrosoftRestClient
from pmosync.errors import (
    AuthError,
    ConfigError,
    FatalConnectorError,
    PmoSyncError,
    RetriableError,
    SkippableRecordError,
)

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


class DataverseError(FatalConnectorError):
    """A business error Dataverse answered (400 with an error code): what to fix is in it."""

    def __init__(self, message: str, *, code: str = "", connection: str | None = None) -> None:
        super().__init__(message, connection=connection)
        self.code = code


class NotFoundError(SkippableRecordError):
    """404: the row does not exist (any more)."""


@dataclass(frozen=True)
class Query:
    """One collection query: an entity set and its query options."""

    entity_set: str
    what: str
    params: Mapping[str, str] = field(default_factory=dict)


Page = tuple[list[dict[str, Any]], str | None]


class DataverseClient(MicrosoftRestClient):
    def __init__(
        self,
        name: str,
        config: PlannerConnection,
        session: requests.Session,
        credentials: Credentials,
    ) -> None:
        self.name = name
        self.config = config
        self.session = session
        self.credentials = credentials
        self.api = config.api_url
        self.base_headers = ODATA_HEADERS

    def _relative_url(self, path: str) -> str:
        return f"{self.api}/{path.lstrip('/')}"

    def _error(self, response: requests.Response, what: str) -> PmoSyncError:
        status = response.status_code
        code, message = "", response.reason or ""
        try:
            error = response.json().get("error") or {}
            code, message = str(error.get("code") or ""), str(error.get("message") or message)
        except (ValueError, AttributeError):
            pass
        path = urlsplit(response.url or "").path
        where = f"{what}: HTTP {status} on {path}: {message}" + (f" ({code})" if code else "")
        if status == 401:
            return AuthError(
                f"{where}. The token was rejected after a refresh: run `pmo-sync auth login "
                f"{self.name}` and check the app registration has Dynamics CRM user_impersonation",
                connection=self.name,
            )
        if status == 403:
            return ConfigError(
                f"{where}. The signed-in user needs a Project licence and a security role "
                "(Project Manager or Project Team Member) in this environment",
                connection=self.name,
            )
        if status == 404:
            return NotFoundError(where, connection=self.name)
        if status == 429:
            # the policy layer already waited out Retry-After max_attempts times
            return RetriableError(
                f"{where} (service protection limit; gave up after {self.config.max_attempts} "
                "tries honouring Retry-After: the writes stay queued for the next run)",
                connection=self.name,
            )
        if status >= 500:
            return RetriableError(f"{where} (gave up after retries)", connection=self.name)
        return DataverseError(where, code=code, connection=self.name)

    # -- reads ----------------------------------------------------------------------------
    @property
    def _prefer(self) -> str:
        return f"odata.maxpagesize={self.config.page_size}"

    def rows(
        self, entity_set: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of a query, following @odata.nextLink (which carries the query) to the end."""
        return self._follow(entity_set, params, what, None)

    def _follow(
        self, start: str, params: Mapping[str, str] | None, what: str, first: Page | None
    ) -> Iterator[dict[str, Any]]:
        def fetch(next_url: str | None) -> Page:
            if next_url is None and first is not None:
                return first  # the first page came in a batch
            response = self.request(
                "GET",
                next_url or start,
                what=what,
                params=None if next_url else params,
                headers={"Prefer": self._prefer},
            )
            try:
                document = response.json()
            except ValueError:
                document = None
            return self._page(document, what)

        yield from paginate(fetch, what=f"[{self.name}] {what}")

    def _page(self, document: Any, what: str) -> Page:
        items = document.get("value") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise FatalConnectorError(
                f"{what}: the answer is not an OData collection", connection=self.name
            )
        next_link = document.get("@odata.nextLink")
        return items, str(next_link) if next_link else None

    def batch_rows(self, queries: Sequence[Query], *, what: str) -> list[list[dict[str, Any]]]:
        """Every row of each query, the first pages in one ``$batch`` request (later pages,
        rare for change probes, are followed one by one)."""
        boundary = f"batch_{uuid.uuid4()}"
        body = "".join(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n"
            f"GET {self.api}/{q.entity_set}?{urlencode(q.params, quote_via=quote)} HTTP/1.1\r\n"
            f"Accept: application/json\r\nPrefer: {self._prefer}\r\n\r\n"
            for q in queries
        )
        response = self._post_batch(f"{body}--{boundary}--\r\n", boundary, what)
        answers = _http_parts(response)
        if len(answers) != len(queries):
            raise FatalConnectorError(
                f"{what}: $batch answered {len(answers)} parts to {len(queries)} requests",
                connection=self.name,
            )
        out = []
        for query, part in zip(queries, answers, strict=True):
            if part.status_code >= 400:
                raise self._error(part, query.what)
            first = self._page(_json_or_none(part), query.what)
            out.append(list(self._follow(query.entity_set, query.params, query.what, first)))
        return out

    def _post_batch(self, body: str, boundary: str, what: str) -> requests.Response:
        """The batch POST (a multipart body, which ``request`` cannot send), through the same
        policy layer, with ``request``'s one token refresh on a 401."""
        headers = {**self.base_headers, "Content-Type": f"multipart/mixed; boundary={boundary}"}
        for fresh_token in (False, True):
            if fresh_token:
                self.credentials.invalidate()
            sent = {**headers, **self.credentials.headers()}
            try:
                response = self.session.post(
                    self._url("$batch"), data=body.encode("utf-8"), headers=sent
                )
            except requests.RequestException as exc:
                raise translate_exception(exc, connection=self.name, what=what) from None
            if response.status_code != 401 or fresh_token:
                break
        if response.status_code >= 400:
            raise self._error(response, what)
        return response

    def row(
        self, path: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        response = self.request("GET", path, what=what, params=params)
        try:
            data = response.json()
        except ValueError:
            raise FatalConnectorError(
                f"{what}: the answer is not JSON", connection=self.name
            ) from None
        if not isinstance(data, dict):
            raise FatalConnectorError(f"{what}: the answer is not an entity", connection=self.name)
        return data

    def metadata(self) -> str:
        return self.request(
            "GET", "$metadata", what="$metadata", headers={"Accept": "application/xml"}
        ).text

    # -- actions --------------------------------------------------------------------------
    def action(self, name: str, body: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        response = self.request("POST", name, what=what, body=dict(body))
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def _http_parts(response: requests.Response) -> list[requests.Response]:
    """The HTTP answers inside a multipart/mixed $batch answer, as responses, in order."""
    envelope = f"Content-Type: {response.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.message_from_bytes(envelope + response.content)
    parts = message.get_payload() if message.is_multipart() else []
    out: list[requests.Response] = []
    for part in parts if isinstance(parts, list) else []:
        raw = part.get_payload(decode=True) if isinstance(part, email.message.Message) else None
        if not isinstance(raw, bytes):
            continue
        head, _, content = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        status_line, *header_lines = head.decode("utf-8").split("\n")
        answer = requests.Response()
        answer.status_code = int(status_line.split(" ")[1])
        answer.reason = status_line.split(" ", 2)[2] if status_line.count(" ") >= 2 else ""
        for line in header_lines:
            name, _, value = line.partition(":")
            answer.headers[name.strip()] = value.strip()
        answer._content = content.strip()
        answer.url = response.url
        out.append(answer)
    return out


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
