"""Sign-in to Entra ID through msal (and NTLM for on-premises Project Server).

* ``device_code``: a delegated user signs in once, interactively (``sign_in``); the refresh token
  lands in the on-disk token cache and every later run (cron) refreshes silently. A run that
  finds no usable sign-in raises a ConfigError telling the operator to sign in first: a cron
  job must never sit waiting for a human.
* ``client_credentials``: app-only, for servers that accept it (Project Online does not).
* ``ntlm``: Windows auth for on-premises Project Server, through the optional ``requests-ntlm``.

msal gets our own ``requests.Session`` (``http_client``) carrying the HTTP policy and the
configured CA bundle. Tokens never reach logs, exceptions or the prompt callback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests

from pmosync.config.connections.pwa import PwaConnection
from pmosync.connectors.http import translate_exception
from pmosync.errors import AuthError, ConfigError, PmoSyncError, RetriableError

log = logging.getLogger(__name__)

# Hosts msal knows; anything else (an ADFS/sovereign proxy, a test double) skips msal's
# instance discovery, which would otherwise call login.microsoftonline.com.
KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


def login_command(name: str) -> str:
    return f"pmo-sync auth login {name}"


class SignInRequired(ConfigError):
    """No usable delegated sign-in: a human must run the interactive sign-in once."""


def default_cache_path(name: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pmo-sync" / "msal" / f"{name}.json"


class TokenCacheFile:
    """An msal SerializableTokenCache persisted to one file, 0600, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self._lock = threading.Lock()
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                # A cache others can read holds refresh tokens: tighten it before use.
                log.warning("token cache %s had mode %o; setting 0600", path, mode)
                os.chmod(path, 0o600)
            try:
                self.cache.deserialize(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"token cache {path} cannot be read ({type(exc).__name__}); delete it and "
                    "sign in again"
                ) from None

    def save(self) -> None:
        with self._lock:
            if not self.cache.has_state_changed:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".msal-", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)  # mkstemp already uses 0600; be explicit about it
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(self.cache.serialize())
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            self.cache.has_state_changed = False


class Credentials(Protocol):
    """What the PWA client needs from an auth mode."""

    bearer: bool

    def headers(self) -> dict[str, str]:
        """Headers for the next request (may acquire or refresh a token)."""
        ...

    def invalidate(self) -> None:
        """The server answered 401: drop the current token so the next call gets a new one."""
        ...


def _service_error(name: str, exc: Exception, what: str) -> PmoSyncError:
    """msal's MsalServiceError ("HTTP Error: 503") once our retries are spent: a 5xx or 429
    is Entra's outage (retriable, the next run tries again), anything else a sign-in problem."""
    found = re.search(r"HTTP Error: (\d{3})", str(exc))
    status = int(found.group(1)) if found else None
    if status is not None and (status >= 500 or status == 429):
        return RetriableError(
            f"{what}: Entra answered HTTP {status} (an outage of Microsoft's sign-in service); "
            "the next run tries again",
            connection=name,
        )
    return AuthError(f"{what}: Entra refused the request ({exc})", connection=name)


def _msal_error(name: str, result: dict[str, Any], what: str) -> PmoSyncError:
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").splitlines()
    first = description[0] if description else ""
    if error == "invalid_client":
        return AuthError(
            f"{what}: Entra rejected the client (invalid_client): {first} Check client_id and "
            "the client secret the configuration points at.",
            connection=name,
        )
    if error in ("invalid_grant", "interaction_required", "consent_required"):
        return SignInRequired(
            f"{what}: the saved sign-in is no longer valid ({error}: {first}). Run "
            f"`{login_command(name)}` interactively to sign in again.",
            connection=name,
        )
    return AuthError(f"{what}: Entra answered {error}: {first}", connection=name)


class MsalCredentials:
    """Bearer tokens from msal, cached on disk, refreshed silently."""

    bearer = True

    def __init__(
        self,
        name: str,
        config: PwaConnection,
        session: requests.Session,
        *,
        cache: TokenCacheFile | None = None,
    ) -> None:
        if config.auth not in ("device_code", "client_credentials"):
            raise ConfigError(f"auth {config.auth} does not use msal", connection=name)
        self.name = name
        self.config = config
        self.session = session
        self.cache_file = cache or TokenCacheFile(config.token_cache or default_cache_path(name))
        self._app: msal.ClientApplication | None = None
        self._token: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the token and the secret must never reach a log line
        return f"MsalCredentials(connection={self.name!r}, auth={self.config.auth!r})"

    # -- msal application ----------------------------------------------------------------
    @property
    def app(self) -> msal.ClientApplication:
        if self._app is None:
            self._app = self._build_app()
        return self._app

    def _build_app(self) -> msal.ClientApplication:
        config = self.config
        host = urlsplit(config.authority).hostname or ""
        common: dict[str, Any] = {
            "authority": config.msal_authority,
            "token_cache": self.cache_file.cache,
            "http_client": self.session,
            "app_name": "pmo-sync",
        }
        if host not in KNOWN_AUTHORITY_HOSTS:
            common["instance_discovery"] = False
        try:
            if config.auth == "client_credentials":
                secret = config.client_secret.resolve("Entra client secret", self.name)
                return msal.ConfidentialClientApplication(
                    config.client_id, client_credential=secret, **common
                )
            return msal.PublicClientApplication(config.client_id, **common)
        except PmoSyncError:
            raise
        except ValueError as exc:
            # msal: "Unable to get authority configuration for …" (unknown tenant, bad host)
            raise AuthError(
                f"Entra authority {config.msal_authority} is not usable: {exc}",
                connection=self.name,
            ) from None
        except requests.RequestException as exc:
            raise translate_exception(exc, connection=self.name, what="Entra discovery") from None
        except msal.exceptions.MsalServiceError as exc:
            raise _service_error(self.name, exc, "Entra discovery") from None

    # -- tokens --------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def invalidate(self) -> None:
        with self._lock:
            token, self._token = self._token, None
            if token is None:
                return
            cache = self.cache_file.cache
            stale = [
                item
                for item in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)
                if item.get("secret") == token
            ]
            for item in stale:  # removing while msal's search iterates would break it
                cache.remove_at(item)
            self.cache_file.save()

    def access_token(self) -> str:
        with self._lock:
            result = self._acquire()
            self.cache_file.save()
            token = result.get("access_token")
            if not token:
                raise _msal_error(self.name, result, "sign-in")
            self._token = str(token)
            return self._token

    def _acquire(self) -> dict[str, Any]:
        scopes = self.config.oauth_scopes
        try:
            if self.config.auth == "client_credentials":
                assert isinstance(self.app, msal.ConfidentialClientApplication)
                # msal >= 1.23 serves this from the (disk-backed) cache until it expires.
                result = self.app.acquire_token_for_client(scopes)
                return dict(result or {})
            account = self._account()
            result = self.app.acquire_token_silent_with_error(scopes, account=account)
        except PmoSyncError:
            raise
        except requests.RequestException as exc:
            raise translate_exception(exc, connection=self.name, what="Entra token") from None
        except msal.exceptions.MsalServiceError as exc:
            raise _service_error(self.name, exc, "Entra token") from None
        if result is None:
            raise SignInRequired(
                f"the token cache {self.cache_file.path} holds no refresh token for "
                f"{account.get('username')}; run `{login_command(self.name)}` interactively "
                "to sign in again",
                connection=self.name,
            )
        return dict(result)

    def _account(self) -> dict[str, Any]:
        accounts = self.app.get_accounts(username=self.config.account)
        if not accounts:
            who = f" for {self.config.account}" if self.config.account else ""
            raise SignInRequired(
                f"no signed-in user{who} in the token cache {self.cache_file.path}. Device-code "
                "sign-in needs a human, which a scheduled run cannot wait for: run "
                f"`{login_command(self.name)}` once interactively, then run again",
                connection=self.name,
            )
        if len(accounts) > 1:
            names = ", ".join(sorted(str(a.get("username")) for a in accounts))
            raise ConfigError(
                f"the token cache holds several users ({names}); set `account:` in the "
                "connection to choose one",
                connection=self.name,
            )
        return dict(accounts[0])

    # -- interactive ---------------------------------------------------------------------
    def device_sign_in(self, prompt: Callable[[str], None]) -> str:
        """Run the device-code flow; ``prompt`` gets the verification message only."""
        assert isinstance(self.app, msal.PublicClientApplication)
        try:
            flow = self.app.initiate_device_flow(scopes=self.config.oauth_scopes)
            if "user_code" not in flow:
                raise _msal_error(self.name, flow, "device code sign-in")
            prompt(str(flow.get("message") or ""))
            result = self.app.acquire_token_by_device_flow(flow)
        except PmoSyncError:
            raise
        except requests.RequestException as exc:
            raise translate_exception(exc, connection=self.name, what="Entra sign-in") from None
        except msal.exceptions.MsalServiceError as exc:
            raise _service_error(self.name, exc, "Entra sign-in") from None
        if "access_token" not in result:
            error = result.get("error")
            if error in ("authorization_declined", "expired_token", "bad_verification_code"):
                raise AuthError(
                    f"device code sign-in did not complete ({error}); run "
                    f"`{login_command(self.name)}` again",
                    connection=self.name,
                )
            raise _msal_error(self.name, result, "device code sign-in")
        with self._lock:
            self.cache_file.save()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("upn") or "signed in")


class NtlmCredentials:
    """On-premises Project Server with Windows auth; needs the optional ``requests-ntlm``."""

    bearer = False

    def __init__(self, name: str, config: PwaConnection, session: requests.Session) -> None:
        try:
            from requests_ntlm import HttpNtlmAuth  # type: ignore[import-not-found]
        except ImportError:
            raise ConfigError(
                "auth ntlm needs the requests-ntlm package: pip install 'pmo-sync[ntlm]'",
                connection=name,
            ) from None
        password = config.password.resolve("NTLM password", name)
        session.auth = HttpNtlmAuth(config.username, password)

    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        """NTLM re-negotiates per connection; nothing is cached to drop."""


def credentials_for(name: str, config: PwaConnection, session: requests.Session) -> Credentials:
    if config.auth == "ntlm":
        return NtlmCredentials(name, config, session)
    return MsalCredentials(name, config, session)


def sign_in(name: str, config: PwaConnection, prompt: Callable[[str], None] = print) -> str:
    """Interactive sign-in for ``pmo-sync auth login CONNECTION``; returns who signed in.

    Device code: shows Entra's verification message through ``prompt`` and waits for the user;
    client credentials: checks the secret by getting a token. Either way the token cache file
    is written (0600) so scheduled runs refresh silently.
    """
    from pmosync.connectors.msproject.transport import build_session

    if config.auth == "ntlm":
        raise ConfigError(
            "auth ntlm has no sign-in step; the password is read at each run", connection=name
        )
    session, _ = build_session(config)
    try:
        credentials = MsalCredentials(name, config, session)
        if config.auth == "client_credentials":
            credentials.access_token()
            return f"application {config.client_id}"
        return credentials.device_sign_in(prompt)
    finally:
        session.close()
