"""HTTP client for the Dataverse Web API (OData v4) of a Planner Premium environment.

``requests`` through the shared policy layer (timeouts, pacing, 429 + Retry-After), bearer
tokens from the shared msal module (delegated device-code sign-in, silent refresh). Reads follow
``@odata.nextLink`` to the end with loop guards, asking for pages with
``Prefer: odata.maxpagesize`` ("Page results",
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results).
Unbound actions (the Project schedule APIs) are POSTs to ``<api>/<ActionName>``
("Use Web API actions", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-actions).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from pmosync.config.connections.planner import PlannerConnection
from pmosync.connectors.base import paginate
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
    def rows(
        self, entity_set: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of a query, following @odata.nextLink (which carries the query) to the end."""
        prefer = {"Prefer": f"odata.maxpagesize={self.config.page_size}"}

        def fetch(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            response = self.request(
                "GET",
                next_url or entity_set,
                what=what,
                params=None if next_url else params,
                headers=prefer,
            )
            try:
                page = response.json()
                items = page["value"]
            except (ValueError, KeyError, TypeError):
                raise FatalConnectorError(
                    f"{what}: the answer is not an OData collection", connection=self.name
                ) from None
            if not isinstance(items, list):
                raise FatalConnectorError(f"{what}: 'value' is not a list", connection=self.name)
            next_link = page.get("@odata.nextLink")
            return items, str(next_link) if next_link else None

        yield from paginate(fetch, what=f"[{self.name}] {what}")

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
