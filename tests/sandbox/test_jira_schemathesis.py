"""schemathesis against the Jira Cloud emulator, on the operations the connector calls.

Positive cases (requests the OpenAPI document allows): no 5xx, and every response matches
the document, except for the documented defects of Atlassian's document listed once, in
``SPEC_DEFECTS``. Negative cases (bodies the document rejects): a 400, never a 2xx or a 5xx.
Examples are generated deterministically (``derandomize``) and bounded, so this runs in CI.
Source of the document: tests/fixtures/specs/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_schema_validator import OAS30Validator
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation

from pmosync.sandbox.jira.testing import ServedJira
from tests import fixture_dirs
from tests.sandbox.test_jira_fidelity import cloud  # noqa: F401 - a fixture

SPEC = fixture_dirs.SPECS / "jira-cloud-platform-v3.openapi.json"
ISSUE = {"issueIdOrKey": "APP-2"}
# The operations pmosync/connectors/jira calls (through the jira client or its session), with
# the path parameters that name seeded things (random ones would only ever meet a 404).
OPERATIONS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/rest/api/3/serverInfo"): {},
    ("GET", "/rest/api/3/myself"): {},
    ("GET", "/rest/api/3/field"): {},
    ("POST", "/rest/api/3/search/jql"): {},
    ("POST", "/rest/api/3/issue"): {},
    ("GET", "/rest/api/3/issue/{issueIdOrKey}"): ISSUE,
    ("PUT", "/rest/api/3/issue/{issueIdOrKey}"): ISSUE,
    ("GET", "/rest/api/3/issue/{issueIdOrKey}/transitions"): ISSUE,
    ("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions"): ISSUE,
    ("GET", "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"): {
        **ISSUE,
        "propertyKey": "pmo-sync",
    },
    ("PUT", "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"): {
        **ISSUE,
        "propertyKey": "pmo-sync",
    },
    ("GET", "/rest/api/3/issue/{issueIdOrKey}/remotelink"): ISSUE,
    ("POST", "/rest/api/3/issue/{issueIdOrKey}/remotelink"): ISSUE,
    ("POST", "/rest/api/3/issueLink"): {},
    ("GET", "/rest/api/3/issueLinkType"): {},
    ("GET", "/rest/api/3/project/{projectIdOrKey}"): {"projectIdOrKey": "APP"},
    ("GET", "/rest/api/3/project/{projectIdOrKey}/versions"): {"projectIdOrKey": "APP"},
    ("GET", "/rest/api/3/project/{projectIdOrKey}/properties/{propertyKey}"): {
        "projectIdOrKey": "APP",
        "propertyKey": "pmo-sync.status",
    },
    ("PUT", "/rest/api/3/project/{projectIdOrKey}/properties/{propertyKey}"): {
        "projectIdOrKey": "APP",
        "propertyKey": "pmo-sync.status",
    },
}
# Property PUTs take any JSON value (schema {}): no body breaks it; test_jira_fidelity.py
# covers the one they refuse, an empty body.
WITH_BODY = [k for k in OPERATIONS if k[0] in ("POST", "PUT") and "/properties/" not in k[1]]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 8  # per operation and mode: bounded so the whole module runs in seconds

# Where Atlassian's document and Jira disagree, the emulator follows Jira. The one list of
# them: (method, path), or "*" for every operation -> {regex over the failure: why}.
NO_BODY = r"Missing Content-Type|JSON deserialization error"
SPEC_DEFECTS: dict[tuple[str, str] | str, dict[str, str]] = {
    "*": {
        r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}" is not a "date-time"': "Jira "
        "writes offsets without a colon (2026-01-01T10:00:00.000+0000; reference/"
        "api-wire-protocol.md, Jira's own examples in the document); RFC 3339 wants +00:00",
        r"None is not of type": "the document leaves out nullable on fields Jira (and the "
        "document's own examples) send as null: changelog from/toString, description, ...",
    },
    ("PUT", "/rest/api/3/issue/{issueIdOrKey}"): {
        NO_BODY: "the document gives the 204 a JSON body; a 204 has none (RFC 9110 15.3.5)",
    },
    ("PUT", "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"): {
        NO_BODY: "200/201 are documented with an open JSON schema ({}); Jira answers a "
        "property PUT with no body, which the emulator does",
    },
    ("PUT", "/rest/api/3/project/{projectIdOrKey}/properties/{propertyKey}"): {
        NO_BODY: "as for issue properties",
    },
    ("GET", "/rest/api/3/issue/{issueIdOrKey}/remotelink"): {
        r'is not of type "object"': "documented as one RemoteIssueLink; without globalId "
        "Jira lists them all, an array (the connector and the jira client read a list)",
    },
}


@pytest.fixture(scope="module")
def site(cloud: ServedJira) -> ServedJira:  # noqa: F811 - the imported fixture
    """A Cloud site of this module's own (the fixture is module-scoped where it is defined)."""
    return cloud


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def session(site: ServedJira) -> requests.Session:
    return site.session()


def _defect(key: tuple[str, str], failure: BaseException) -> str | None:
    """Why a failure is a documented defect of the document, or None for a real one."""
    text = " ".join(
        str(getattr(failure, name, "") or "") for name in ("title", "message", "validation_message")
    )
    for scope in ("*", key):
        for pattern, reason in SPEC_DEFECTS.get(scope, {}).items():
            if re.search(pattern, text):
                return reason
    return None


def _explore(
    site: ServedJira,
    session: requests.Session,
    schema: Any,
    key: tuple[str, str],
    mode: GenerationMode,
    check: Callable[[Any, requests.Response], None],
) -> None:
    """Send bounded, deterministic examples of one operation and check each answer."""
    operation = schema[key[1]][key[0]]
    pinned: dict[str, Any] = {"path_parameters": OPERATIONS[key]}
    if mode is GenerationMode.NEGATIVE:
        pinned["query"] = {}  # only the body breaks the schema
    strategy = operation.as_strategy(generation_mode=mode, **pinned)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # report the first failure, no shrinking
    )
    @given(strategy)
    def probe(case: Any) -> None:
        check(case, case.call(base_url=site.url, session=session, verify=session.verify))

    probe()


@pytest.mark.parametrize("key", list(OPERATIONS), ids=lambda k: f"{k[0]} {k[1]}")
def test_positive_cases_get_no_5xx_and_documented_responses(
    site: ServedJira, session: requests.Session, schema: Any, key: tuple[str, str]
) -> None:
    def check(case: Any, response: requests.Response) -> None:
        assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, Failure) as exc:  # one or more failures, read one by one
            failures = list(getattr(exc, "exceptions", [exc]))
            real = [f for f in failures if _defect(key, f) is None]
            assert not real, (case.as_curl_command(), [str(f)[:500] for f in real])

    _explore(site, session, schema, key, GenerationMode.POSITIVE, check)


@pytest.mark.parametrize("key", WITH_BODY, ids=lambda k: f"{k[0]} {k[1]}")
def test_bodies_the_schema_rejects_get_a_400(
    site: ServedJira, session: requests.Session, schema: Any, key: tuple[str, str]
) -> None:
    operation = schema[key[1]][key[0]]
    body_schema = operation.definition.raw["requestBody"]["content"]["application/json"]["schema"]
    document = {**schema.raw_schema, **body_schema}
    validator = OAS30Validator(document)

    def check(case: Any, response: requests.Response) -> None:
        components = case.meta.components if case.meta else {}
        negative = components.get(ParameterLocation.BODY)
        if negative is None or negative.mode is not GenerationMode.NEGATIVE:
            return  # this case broke a parameter, not the body
        if isinstance(case.body, dict | list) and not any(
            error
            for error in validator.iter_errors(_without_nulls(case.body))
            if not _coerced(error)
        ):
            return  # only what Jira binds anyway: a null (read as absent), a coercion
        assert response.status_code == 400, (case.as_curl_command(), response.text[:300])
        checked.append(response.status_code)

    checked: list[int] = []
    _explore(site, session, schema, key, GenerationMode.NEGATIVE, check)
    assert checked, "no example broke the body: the check never ran"


def _coerced(error: Any) -> bool:
    """What Jira binds although the document says otherwise (see pmosync/sandbox/jira/bodies.py):
    a number or boolean for a string, one string for a list."""
    if error.validator != "type":
        return False
    scalar = isinstance(error.instance, int | float | bool)
    return (error.validator_value == "string" and scalar) or (
        error.validator_value == "array" and isinstance(error.instance, str)
    )


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value
