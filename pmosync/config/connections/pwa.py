"""Project Server / Project Online (PWA REST) connection settings.

Secrets are never values here: a client secret comes from ``client_secret_env`` or
``client_secret_file``, an NTLM password from ``password_env`` or ``password_file``; signed-in
users' tokens live in the msal token cache file (written 0600).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from pmosync.config.secrets import SecretRef, check_secret_file, secret_ref
from pmosync.config.types import EnvVarName, HttpsUrl, TimeZoneName

SecretFile = Annotated[Path | None, AfterValidator(check_secret_file)]
AuthMode = Literal["device_code", "client_credentials", "ntlm"]
ODataFormat = Literal["verbose", "minimalmetadata", "nometadata"]


# SharePoint Online's hosts, including the sovereign clouds' (US Government, China)
SHAREPOINT_ONLINE_SUFFIXES = (".sharepoint.com", ".sharepoint.us", ".sharepoint.cn")


def _sharepoint_online(site_url: str) -> bool:
    host = (urlsplit(site_url).hostname or "").lower()
    return host.endswith(SHAREPOINT_ONLINE_SUFFIXES)


class PwaConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    kind: Literal["pwa"]
    site_url: HttpsUrl = Field(description="PWA site, e.g. https://x/sites/pwa")
    authority: str = Field(
        default="https://login.microsoftonline.com",
        pattern=r"^https://",
        description="Entra authority host (sovereign clouds: login.microsoftonline.us, ...)",
    )
    tenant: str = Field(default="organizations", description="Entra tenant id or domain")
    client_id: str = Field(default="", description="Entra app registration (application) id")
    auth: AuthMode = Field(
        default="device_code",
        description=(
            "device_code (default): a delegated user signs in once with `pmo-sync auth login`, "
            "cron then refreshes silently (the only sign-in Project Online accepts); "
            "client_credentials: app-only with a client secret, refused for *.sharepoint.com "
            "sites; ntlm: on-premises Windows auth (extra requests-ntlm)"
        ),
    )
    scopes: list[str] | None = Field(
        default=None,
        description="OAuth scopes; default <site origin>/.default (e.g. https://x.sharepoint.com)",
    )
    account: str | None = Field(
        default=None, description="UPN to pick from the token cache when it holds several users"
    )
    client_secret_env: EnvVarName | None = None
    client_secret_file: SecretFile = None
    username: str | None = Field(default=None, description="NTLM: DOMAIN\\user")
    password_env: EnvVarName | None = None
    password_file: SecretFile = None
    token_cache: Path | None = Field(
        default=None,
        description="msal token cache file (written 0600); default ~/.cache/pmo-sync/<name>.json",
    )
    ca_bundle: Path | None = None
    odata: ODataFormat = Field(
        default="verbose",
        description="OData JSON flavour asked for with Accept (verbose works on every version)",
    )
    server_timezone: TimeZoneName = Field(
        default="UTC",
        description="IANA zone of the PWA server's clock (its dates carry no offset)",
    )
    requests_per_second: float = Field(default=5.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="Tries per request (429/503/5xx)")
    max_retry_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest Retry-After honoured; a longer one fails the request cleanly",
    )
    queue_poll_seconds: float = Field(default=2.0, gt=0, description="Queue job poll interval")
    queue_timeout_seconds: float = Field(default=120.0, gt=0, description="Queue job budget")
    checkout_attempts: int = Field(
        default=4, ge=1, description="Tries when a project is checked out elsewhere"
    )
    checkout_backoff_seconds: float = Field(
        default=10.0, ge=0, description="First wait before retrying a check-out (doubles)"
    )
    # Each plan's check-out → update → publish cycle waits on its own queue jobs, so cycles of
    # different plans overlap. 4 is the Project Queue's default number of job processor threads
    # (PWA Settings → Queue Settings), past which jobs only wait in the queue.
    publish_concurrency: int = Field(
        default=4, ge=1, le=16, description="Plans written (checked out and published) at once"
    )
    # The pull reads the next plans while it maps this one, on as many connections: the same
    # bound as publishing (SharePoint Online throttles per user with 429/503 + Retry-After,
    # which the policy layer waits out; 1 reads one plan at a time).
    read_concurrency: int = Field(
        default=4, ge=1, le=16, description="Plans read at once by the pull (1: one at a time)"
    )

    @field_validator("site_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("authority")
    @classmethod
    def _authority_host(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _auth_settings(self) -> PwaConnection:
        secret_ref(self.client_secret_env, self.client_secret_file, "client_secret")
        secret_ref(self.password_env, self.password_file, "password")
        if self.auth in ("device_code", "client_credentials") and not self.client_id:
            raise ValueError(f"auth {self.auth} needs client_id (the Entra app registration id)")
        if self.auth == "client_credentials" and not (
            self.client_secret_env or self.client_secret_file
        ):
            raise ValueError(
                "auth client_credentials needs client_secret_env or client_secret_file"
            )
        if self.auth == "client_credentials" and _sharepoint_online(self.site_url):
            # SharePoint Online answers a secret-based app-only token with 401 "Unsupported app
            # only token." and Project Online has no app-only access at all (learn.microsoft.com
            # /sharepoint/dev/solution-guidance/security-apponly-azuread; docs/microsoft-project.md)
            raise ValueError(
                "Project Online (a *.sharepoint.com site) accepts delegated users only: set "
                "auth: device_code and sign in once with `pmo-sync auth login`"
            )
        if self.auth == "ntlm" and not (
            self.username and (self.password_env or self.password_file)
        ):
            raise ValueError("auth ntlm needs username and password_env or password_file")
        return self

    @property
    def client_secret(self) -> SecretRef:
        return SecretRef(env=self.client_secret_env, file=self.client_secret_file)

    @property
    def password(self) -> SecretRef:
        return SecretRef(env=self.password_env, file=self.password_file)

    @property
    def resource(self) -> str:
        """The site's origin, which is the OAuth resource (audience) of its tokens."""
        parts = urlsplit(self.site_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def oauth_scopes(self) -> list[str]:
        return list(self.scopes) if self.scopes else [f"{self.resource}/.default"]

    @property
    def msal_authority(self) -> str:
        return f"{self.authority}/{self.tenant}"
