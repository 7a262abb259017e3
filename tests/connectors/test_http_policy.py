"""The HTTP policy layer against a real loopback server (no mocked transport)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask, Response

from pmosync.connectors.http import (
    Action,
    HttpPolicy,
    classify_status,
    mount_policy,
    translate_exception,
)
from pmosync.errors import AuthError, RetriableError, SkippableRecordError
from pmosync.sandbox.admin import drop_connection
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.server import ServedApp

script: dict[str, list[tuple[int, dict[str, str]]]] = {}
hits: dict[str, int] = {}


def make_app() -> Flask:
    app = Flask("policy-test")

    @app.route("/<name>", methods=["GET", "POST"])
    def scripted(name: str) -> Response:
        hits[name] = hits.get(name, 0) + 1
        steps = script.get(name, [])
        if steps:
            status, headers = steps.pop(0)
            if status == 0:
                return drop_connection()
            return Response("{}", status=status, headers=headers)
        return Response('{"ok": true}', status=200, mimetype="application/json")

    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    ca = SandboxCA(tmp_path_factory.mktemp("ca"))
    with ServedApp(make_app(), ssl_context=ca.server_context()) as served:
        yield served.url, str(ca.bundle_path)


@pytest.fixture(autouse=True)
def _reset() -> None:
    script.clear()
    hits.clear()


def session_for(bundle: str, **policy: object) -> tuple[requests.Session, object]:
    session = requests.Session()
    adapter = mount_policy(session, HttpPolicy(**policy), ca_bundle=bundle)  # type: ignore[arg-type]
    return session, adapter


def test_retry_after_is_honoured(server: tuple[str, str]) -> None:
    url, bundle = server
    script["a"] = [(429, {"Retry-After": "1"})]
    session, adapter = session_for(bundle)
    started = time.monotonic()
    assert session.get(f"{url}/a").status_code == 200
    assert time.monotonic() - started >= 1.0
    assert hits["a"] == 2 and adapter.stats.retries == 1  # type: ignore[attr-defined]


def test_429_without_retry_after_waits_the_lockout(server: tuple[str, str]) -> None:
    url, bundle = server
    script["b"] = [(429, {}), (429, {})]
    session, _ = session_for(bundle, lockout_seconds=0.3, requests_per_second=50)
    started = time.monotonic()
    assert session.get(f"{url}/b").status_code == 200
    assert time.monotonic() - started >= 0.6
    assert hits["b"] == 3


def test_unsafe_post_is_not_repeated_after_a_5xx(server: tuple[str, str]) -> None:
    url, bundle = server
    script["c"] = [(500, {})]
    session, _ = session_for(bundle)
    assert session.post(f"{url}/c", json={}).status_code == 500
    assert hits["c"] == 1
    script["c"] = [(502, {})]
    idempotent, _ = session_for(bundle, retry_writes=True)
    assert idempotent.post(f"{url}/c", json={}).status_code == 200
    assert hits["c"] == 3


def test_get_survives_a_dropped_connection_and_gives_up_in_the_end(server: tuple[str, str]) -> None:
    url, bundle = server
    script["d"] = [(0, {})]
    session, _ = session_for(bundle)
    assert session.get(f"{url}/d").status_code == 200
    script["e"] = [(503, {"Retry-After": "0"})] * 3
    session, _ = session_for(bundle, max_attempts=3)
    response = session.get(f"{url}/e")
    assert response.status_code == 503 and hits["e"] == 3


def test_pacing_spreads_requests(server: tuple[str, str]) -> None:
    url, bundle = server
    session, _ = session_for(bundle, requests_per_second=20)
    started = time.monotonic()
    for _ in range(11):
        session.get(f"{url}/f")
    assert time.monotonic() - started >= 0.45  # 10 gaps of 50 ms


def test_tls_verification_stays_on_and_env_bundle_cannot_override(
    server: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, bundle = server
    bogus = tmp_path / "other.pem"
    SandboxCA(tmp_path)  # a different CA than the server's
    bogus.write_bytes((tmp_path / "sandbox-ca.pem").read_bytes())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))
    session, _ = session_for(bundle)
    assert session.get(f"{url}/g", verify=False).status_code == 200  # verify=False ignored
    plain = requests.Session()
    mount_policy(plain, HttpPolicy(max_attempts=1))
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(f"{url}/g")


def test_status_table_and_translation() -> None:
    assert classify_status(429) is Action.RETRY
    assert classify_status(401) is Action.AUTH
    assert classify_status(422) is Action.SKIP
    assert classify_status(599) is Action.RETRY
    assert classify_status(403, {403: Action.RETRY}) is Action.RETRY
    response = requests.Response()
    response.status_code = 401
    response._content = b'{"error": "nope"}'
    err = requests.HTTPError(response=response)
    assert isinstance(translate_exception(err, connection="x", what="y"), AuthError)
    response.status_code = 422
    assert isinstance(translate_exception(err, connection="x", what="y"), SkippableRecordError)
    assert isinstance(
        translate_exception(requests.ConnectionError(), connection="x", what="y"), RetriableError
    )


def fake_sleep_session(bundle: str, **policy: object) -> tuple[requests.Session, list[float]]:
    """A policy whose waits are recorded instead of slept, so that a 120 s Retry-After is
    checked without a two-minute test (tenacity takes the sleep function as a parameter)."""
    slept: list[float] = []
    session = requests.Session()
    mount_policy(
        session,
        HttpPolicy(**policy),  # type: ignore[arg-type]
        ca_bundle=bundle,
        sleep=slept.append,
    )
    return session, slept


def test_a_long_retry_after_is_honoured_in_full_not_cut(server: tuple[str, str]) -> None:
    url, bundle = server
    script["h"] = [(429, {"Retry-After": "120"})]
    session, slept = fake_sleep_session(bundle)
    assert session.get(f"{url}/h").status_code == 200
    assert slept == [120.0] and hits["h"] == 2


def test_retry_after_past_the_ceiling_fails_cleanly_without_an_early_retry(
    server: tuple[str, str],
) -> None:
    url, bundle = server
    script["i"] = [(503, {"Retry-After": "900"})]
    session, slept = fake_sleep_session(bundle, max_retry_after=300.0)
    with pytest.raises(RetriableError, match=r"asked to wait 900 s, more than the 300 s"):
        session.get(f"{url}/i")
    assert slept == [] and hits["i"] == 1


def test_throttled_writes_are_retried_after_429_and_503_with_retry_after(
    server: tuple[str, str],
) -> None:
    url, bundle = server
    script["j"] = [(503, {"Retry-After": "5"}), (429, {"Retry-After": "7"})]
    session, slept = fake_sleep_session(bundle)  # retry_writes off: a plain POST
    assert session.post(f"{url}/j", json={}).status_code == 200
    assert slept == [5.0, 7.0] and hits["j"] == 3
    script["k"] = [(503, {})]  # a 503 without Retry-After may have been half-done
    assert session.post(f"{url}/k", json={}).status_code == 503
    assert hits["k"] == 1


def test_429_without_retry_after_backs_off_exponentially_with_jitter(
    server: tuple[str, str],
) -> None:
    url, bundle = server
    script["l"] = [(429, {})] * 4
    session, slept = fake_sleep_session(bundle, lockout_seconds=1.0, max_backoff=60.0)
    assert session.get(f"{url}/l").status_code == 200
    assert len(slept) == 4
    for n, wait in enumerate(slept):
        assert 2**n <= wait <= 2**n * 1.25  # doubling, jitter only upwards (never early)
    script["m"] = [(429, {})] * 3
    again, waits = fake_sleep_session(bundle, lockout_seconds=1.0)
    again.get(f"{url}/m")
    assert len(set(waits)) == 3  # not a fixed wait
