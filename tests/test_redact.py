from __future__ import annotations

import base64
import io
import logging

import requests
from jira.exceptions import JIRAError

from pmosync.config.secrets import SecretRef
from pmosync.redact import RedactingFilter, redact, register_basic_auth


def test_a_resolved_secret_is_masked_in_logs_and_tracebacks(monkeypatch: object) -> None:
    import os

    os.environ["PMOSYNC_TEST_SECRET"] = "patXyZsecretValue.0123456789"
    try:
        token = SecretRef(env="PMOSYNC_TEST_SECRET").resolve("token")
    finally:
        del os.environ["PMOSYNC_TEST_SECRET"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("pmosync.test.redact")
    logger.addHandler(handler)
    try:
        logger.error("sending %s", token)
        try:
            raise RuntimeError(f"boom with {token}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert token not in out and out.count("***") == 2


def test_jira_errors_print_the_authorization_header_and_we_mask_it() -> None:
    email, token = "bot@example.com", "cloud-api-token-123456"
    register_basic_auth(email, token)
    request = requests.Request(
        "GET", "https://example.atlassian.net/rest/api/2/myself", auth=(email, token)
    ).prepare()
    header = request.headers["Authorization"]
    assert base64.b64encode(f"{email}:{token}".encode()).decode() in header
    error = JIRAError(status_code=401, text="nope", url=request.url, request=request)
    raw = str(error)
    assert header.split()[-1] in raw  # the library really does print it
    assert header.split()[-1] not in redact(raw) and token not in redact(raw)
