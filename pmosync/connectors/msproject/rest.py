"""The request loop the Microsoft REST clients share (PWA ``/_api`` and the Dataverse Web API).

Both send through the shared ``requests`` policy layer with bearer headers from
:class:`~pmosync.connectors.msproject.auth.Credentials`, and both meet the same mid-run fault:
an access token revoked or expired between two calls answers 401, which one fresh token fixes.
What differs per API stays in the subclass: how a relative path becomes a URL, the headers a
request needs besides the token, an API-specific one-off retry (PWA's stale form digest), and
how an error answer maps onto our error hierarchy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from pmosync.connectors.http import translate_exception
from pmosync.connectors.msproject.auth import Credentials
from pmosync.errors import PmoSyncError


class MicrosoftRestClient:
    """``request()`` for a Microsoft REST API; subclasses fill in the per-API hooks."""

    name: str
    session: requests.Session
    credentials: Credentials
    # headers every request starts from (the token and the caller's headers go over them)
    base_headers: Mapping[str, str]

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path  # a next link or another endpoint of the same site
        return self._relative_url(path)

    def _relative_url(self, path: str) -> str:
        raise NotImplementedError

    def _complete_headers(self, method: str, url: str, body: Any, sent: dict[str, str]) -> None:
        """Add what this API needs on a request besides the token (default: nothing)."""

    def _retry_headers(
        self, response: requests.Response, headers: Mapping[str, str] | None
    ) -> Mapping[str, str] | None:
        """Headers to send the request again with once after this answer; None: no retry."""
        return None

    def _error(self, response: requests.Response, what: str) -> PmoSyncError:
        raise NotImplementedError

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = self._url(path)
        retried_auth = retried_other = False
        while True:
            sent = {**self.base_headers, **self.credentials.headers(), **(headers or {})}
            self._complete_headers(method, url, body, sent)
            try:
                response = self.session.request(method, url, params=params, json=body, headers=sent)
            except requests.RequestException as exc:
                raise translate_exception(exc, connection=self.name, what=what) from None
            if response.status_code == 401 and not retried_auth:
                # An access token can be revoked or expire mid-run: get a new one once.
                retried_auth = True
                self.credentials.invalidate()
                continue
            if not retried_other:
                fresh = self._retry_headers(response, headers)
                if fresh is not None:
                    retried_other = True
                    headers = fresh
                    continue
            if response.status_code >= 400:
                raise self._error(response, what)
            return response
