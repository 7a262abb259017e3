"""A 429 without Retry-After: Atlassian says the header is optional and asks for exponential
backoff with jitter (developer.atlassian.com/cloud/jira/platform/rate-limiting/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmosync.connectors.http import HttpPolicy
from pmosync.connectors.jira.connector import JiraConnector

if TYPE_CHECKING:
    from tests.connectors.jira.conftest import Site

LOCKOUT = 0.5


def test_a_429_without_retry_after_backs_off_exponentially_with_jitter(fresh: Site) -> None:
    throttled = 4
    burst = {"status": 429, "count": throttled, "path_prefix": "/rest/api/"}  # no retry_after
    fresh.admin("POST", "faults", {"burst": burst})
    policy = HttpPolicy(max_attempts=throttled + 2, lockout_seconds=LOCKOUT)
    conn = JiraConnector(fresh.name, fresh.config(), [fresh.mapping()], policy=policy)
    waits: list[float] = []
    conn.client.adapter._sleep = waits.append  # the waits the policy chose, without waiting
    conn.prepare()  # serverInfo is the first call: it meets every 429, then succeeds
    stats = conn.client.adapter.stats
    assert stats.by_status[429] == throttled and stats.retries == throttled
    assert len(waits) == throttled
    for attempt, wait in enumerate(waits):
        floor = LOCKOUT * 2**attempt
        assert floor <= wait <= floor * 1.25, waits  # doubling, never early, jitter upwards
    assert waits != [LOCKOUT * 2**i for i in range(throttled)]  # jittered, not in lockstep
    # a request that succeeds ends the lock-out: the next 429 starts from the floor again
    fresh.admin("POST", "faults", {"burst": {**burst, "count": 1}})
    waits.clear()
    conn.client.get_json("myself", what="GET myself")
    assert len(waits) == 1 and LOCKOUT <= waits[0] <= LOCKOUT * 1.25
