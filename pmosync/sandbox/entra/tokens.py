"""Token minting and checking for the Entra emulator.

Access tokens are HS256 JWTs signed with a per-emulator secret: real enough that clients can
decode them (``aud``, ``scp``/``roles``, ``tid``, ``oid``, ``exp``) and that the PWA emulator can
reject forged or expired ones. ``id_token`` is unsigned (``alg: none``) because msal never checks
its signature (api-wire-protocol §4.3).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

import jwt

ALGORITHM = "HS256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_info(uid: str, utid: str) -> str:
    """msal builds ``home_account_id`` = ``uid.utid`` from this; without it no account exists."""
    return b64url(json.dumps({"uid": uid, "utid": utid}).encode())


def unsigned_jwt(claims: dict[str, Any]) -> str:
    header = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{header}.{body}."


class TokenSigner:
    """Signs and validates the emulator's access tokens."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self.kid = uuid.uuid4().hex[:16]

    def __repr__(self) -> str:
        return f"TokenSigner(kid={self.kid!r})"

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def validate(self, token: str, *, audience: str | None = None) -> dict[str, Any] | None:
        """The claims of a genuine, unexpired token (for ``audience`` if given), else None."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=audience,
                options={"verify_aud": audience is not None, "require": ["exp", "aud", "tid"]},
            )
        except jwt.PyJWTError:
            return None
        return claims


def now() -> int:
    return int(time.time())
