"""The one ``requests.Session`` a PWA connection uses, for msal's token calls and PWA alike.

The shared HTTP policy (timeouts, pacing, Retry-After, TLS CA pinning) is mounted on it, so
token requests and API requests are paced, retried and counted in one place.
"""

from __future__ import annotations

import requests

import pmosync
from pmosync.config.connections.pwa import PwaConnection
from pmosync.connectors.http import HttpPolicy, PolicyAdapter, mount_policy

# SharePoint asks ISVs to decorate traffic so throttling can tell apps apart.
USER_AGENT = f"NONISV|pmo-sync|pmo-sync/{pmosync.__version__}"


def build_session(config: PwaConnection) -> tuple[requests.Session, PolicyAdapter]:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    policy = HttpPolicy(
        connect_timeout=min(10.0, config.timeout_seconds),
        read_timeout=config.timeout_seconds,
        requests_per_second=config.requests_per_second,
        burst=max(1, int(config.requests_per_second)),
        max_attempts=config.max_attempts,
        max_retry_after=config.max_retry_after_seconds,
        # Every write this connection makes is idempotent (check-out, draft MERGE,
        # UpdateCustomFields, update, publish, check-in: each sets a state; it creates no
        # task), and so are token requests: a 503 or a dropped connection is retried, so a
        # forced check-in does not meet the same fault and leave the project checked out.
        retry_writes=True,
    )
    adapter = mount_policy(
        session, policy, ca_bundle=str(config.ca_bundle) if config.ca_bundle else None
    )
    return session, adapter
