"""Contract check: every ProjectServer response the PWA connector uses, as the emulator serves
it, against Microsoft's own ``$metadata`` (the ``PS`` schema, CSDL/EDMX, OData v3).

The contract is tests/fixtures/specs/project-server-ps-spo.edmx.xml (SharePoint Online, i.e.
Project Online, which the emulator models); see tests/fixtures/specs/README.md for its source.
For each entity in a response (``__metadata.type`` in the verbose dialect), every property must
be declared on that type or one of its base types with a value of the declared EDM type, every
navigation property (deferred or expanded) must be declared, and expanded entities are checked
the same way. The connector's requests are captured with a ``requests`` response hook on its
own session while it pulls and pushes against the emulator over loopback: what is checked is
exactly what the connector reads.

Where the served payload legitimately differs from ``$metadata`` the difference is listed once,
in :data:`SPEC_DEFECTS`, with the reason and the source.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests

from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite
from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.loader import LoadedConfig, load_config
from pmosync.config.mapping import TeamMapping
from pmosync.connectors import get_connector
from pmosync.connectors.msproject.connector import PwaConnector
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.pwa import PwaEmulator
from tests import fixture_dirs

SPECS = fixture_dirs.SPECS
EDMX_SPO = SPECS / "project-server-ps-spo.edmx.xml"
EDMX_2019 = SPECS / "project-server-ps-2019.edmx.xml"
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"
NAME = "plans_pwa"

# The one place where a served payload may differ from $metadata, and why.
SPEC_DEFECTS: dict[str, str] = {
    # Enterprise custom fields are dynamic properties: SharePoint adds one
    # ``Custom_x005f_<32 hex>`` property per field to tasks and to ``IncludeCustomFields``;
    # $metadata cannot list them (they differ per site). Source: learn.microsoft.com, "Bulk
    # update custom fields and create project sites from a workflow in Project Online"; the
    # wire reference §5.6.
    "dynamic:Custom_x005f_": "enterprise custom field values (per-site dynamic properties)",
    # CheckedOutBy is an SP.User (SharePoint's own namespace, not the PS schema in the spec
    # files): only PS types are checked.
    "namespace:SP.": "SharePoint types are outside the PS schema",
}

# The entity types the connector reads or gets back from its writes; each must be seen.
USED_TYPES = frozenset(
    {
        "PS.PublishedProject",
        "PS.PublishedTask",
        "PS.PublishedTaskLink",
        "PS.PublishedAssignment",
        "PS.PublishedProjectResource",
        "PS.ProjectSummaryTask",
        "PS.CustomField",
        "PS.LookupTable",
        "PS.LookupText",
        "PS.EntityType",
        "PS.Calendar",
        "PS.BaseCalendarException",
        "PS.QueueJob",
        "PS.DraftProject",
    }
)
# Types whose every declared property the connector relies on: served complete.
COMPLETE_TYPES = frozenset({"PS.PublishedTaskLink", "PS.Calendar", "PS.BaseCalendarException"})

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?|/Date\(-?\d+([+-]\d{4})?\)/)$")
_TIME = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class EdmType:
    name: str
    base: str | None
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (type, null)
    navigation: set[str] = field(default_factory=set)


def load_edmx(path: Path) -> dict[str, EdmType]:
    """``PS.<Name>`` -> the entity type with its base types' members folded in.

    The spec files hold the ``Schema`` element followed by an extract of the container (two
    top-level elements, so not one XML document): only the schema is parsed.
    """
    text = path.read_text(encoding="utf-8")
    schema = text[text.index("<Schema") : text.index("</Schema>") + len("</Schema>")]
    root = ET.fromstring(schema)
    raw: dict[str, EdmType] = {}
    for element in root.iter(f"{EDM}EntityType"):
        name = f"PS.{element.get('Name')}"
        entity = EdmType(name, element.get("BaseType"))
        for child in element:
            if child.tag == f"{EDM}Property":
                nullable = child.get("Nullable", "true") != "false"
                entity.properties[str(child.get("Name"))] = (str(child.get("Type")), nullable)
            elif child.tag == f"{EDM}NavigationProperty":
                entity.navigation.add(str(child.get("Name")))
        raw[name] = entity
    resolved: dict[str, EdmType] = {}
    for name, entity in raw.items():
        merged = EdmType(name, entity.base)
        chain = [entity]
        while chain[-1].base:
            chain.append(raw[chain[-1].base])
        for member in reversed(chain):
            merged.properties.update(member.properties)
            merged.navigation |= member.navigation
        resolved[name] = merged
    return resolved


def value_problem(edm: str, nullable: bool, value: Any) -> str | None:
    """Why ``value`` is not a JSON (verbose, OData v3) rendering of ``edm``; None when it is."""
    if value is None:
        return None if nullable else "null for a non-nullable property"
    if edm.startswith("Collection("):
        ok = isinstance(value, dict) and isinstance(value.get("results"), list)
        return None if ok else "not a collection"
    checks: dict[str, bool] = {
        "Edm.String": isinstance(value, str),
        "Edm.Boolean": isinstance(value, bool),
        "Edm.Guid": isinstance(value, str) and bool(_GUID.match(value)),
        "Edm.DateTime": isinstance(value, str) and bool(_DATETIME.match(value)),
        "Edm.Time": isinstance(value, str) and bool(_TIME.match(value)),
        "Edm.Int16": isinstance(value, int) and not isinstance(value, bool),
        "Edm.Int32": isinstance(value, int) and not isinstance(value, bool),
        "Edm.Byte": isinstance(value, int) and not isinstance(value, bool),
        "Edm.Double": isinstance(value, int | float) and not isinstance(value, bool),
        # OData v2/v3 JSON writes 64-bit integers and decimals as strings
        "Edm.Int64": isinstance(value, str) and bool(_DECIMAL.match(value)),
        "Edm.Decimal": isinstance(value, str) and bool(_DECIMAL.match(value)),
    }
    if edm not in checks:
        return f"unchecked EDM type {edm}"
    return None if checks[edm] else f"{value!r} is not {edm}"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    missing: dict[str, set[str]] = field(default_factory=dict)  # type -> EDMX props not served

    def distinct(self) -> list[str]:
        """Each problem once (without the request it was seen in), with one example."""
        first: dict[str, str] = {}
        for problem in self.problems:
            where, _, what = problem.partition(": ")
            what = re.sub(r"^(.*?): .* is not (Edm\.\w+)$", r"\1: not \2", what)
            first.setdefault(what, where)
        return [f"{what}  (e.g. {where})" for what, where in first.items()]


def check_entity(body: dict[str, Any], types: dict[str, EdmType], where: str, out: Report) -> None:
    meta = body.get("__metadata") or {}
    type_name = str(meta.get("type") or "")
    if type_name.startswith("SP."):
        return  # SPEC_DEFECTS["namespace:SP."]
    entity = types.get(type_name)
    if entity is None:
        out.problems.append(f"{where}: type {type_name!r} is not in $metadata")
        return
    out.seen[type_name] = out.seen.get(type_name, 0) + 1
    served = set()
    for name, value in body.items():
        if name == "__metadata":
            continue
        if name.startswith("Custom_x005f_"):
            continue  # SPEC_DEFECTS["dynamic:Custom_x005f_"]
        if name in entity.properties:
            served.add(name)
            edm, nullable = entity.properties[name]
            problem = value_problem(edm, nullable, value)
            if problem:
                out.problems.append(f"{where}: {type_name}.{name}: {problem}")
        elif name in entity.navigation:
            if isinstance(value, dict) and "__deferred" in value:
                continue
            for index, row in enumerate(_rows(value)):
                check_entity(row, types, f"{where} > {name}[{index}]", out)
        else:
            out.problems.append(f"{where}: {type_name} has no property {name!r} in $metadata")
    out.missing.setdefault(type_name, set(entity.properties)).intersection_update(
        set(entity.properties) - served
    )


def _rows(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        return [r for r in value["results"] if isinstance(r, dict)]
    if isinstance(value, dict):
        return [value]
    return []


def check_response(url: str, payload: Any, types: dict[str, EdmType], out: Report) -> None:
    body = payload.get("d") if isinstance(payload, dict) else None
    if body is None:
        return
    where = re.sub(r"^https?://[^/]+", "", url)
    for index, row in enumerate(_rows(body) if "results" in body else [body]):
        check_entity(row, types, f"{where} [{index}]", out)


# -- unit checks of the checker itself -----------------------------------------------------


def test_the_edmx_is_read_with_inheritance() -> None:
    spo = load_edmx(EDMX_SPO)
    link = spo["PS.PublishedTaskLink"]
    # Microsoft's published link: predecessor and successor ids, lag and its format
    assert {"Id", "PredecessorTaskId", "SuccessorTaskId", "LinkLag", "LinkLagFmt"} <= set(
        link.properties
    )
    assert "StartId" not in link.properties and "EndId" not in link.properties
    assert link.properties["LinkLagFmt"] == ("Edm.Int16", False)
    assert "IsBudget" not in spo["PS.PublishedProjectResource"].properties
    assert spo["PS.BaseCalendarException"].properties["Shift1Start"] == ("Edm.Int32", False)
    assert "BaseCalendarExceptions" in spo["PS.Calendar"].navigation
    # SharePoint 2019 has only the navigation properties on a published link
    old = load_edmx(EDMX_2019)["PS.PublishedTaskLink"]
    assert set(old.properties) == {"Id", "DependencyType"}
    assert old.navigation == {"Start", "End"}


def test_the_checker_rejects_what_the_old_emulator_served() -> None:
    types = load_edmx(EDMX_SPO)
    report = Report()
    old_link = {
        "__metadata": {"type": "PS.PublishedTaskLink"},
        "Id": "3a1b5c9e-427c-e111-92fc-00155d3ba208",
        "DependencyType": 1,
        "StartId": "3a1b5c9e-427c-e111-92fc-00155d3ba208",
        "EndId": "3b1b5c9e-427c-e111-92fc-00155d3ba208",
        "LinkLag": "4800",
    }
    check_entity(old_link, types, "old", report)
    assert len(report.problems) == 3, report.problems
    assert value_problem("Edm.DateTime", False, None) is not None
    assert value_problem("Edm.DateTime", False, "2026-01-05T08:00:00") is None
    assert value_problem("Edm.Time", False, "P1DT16H") is None
    assert value_problem("Edm.Int32", False, True) is not None


# -- the emulator, as the connector sees it ------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("pwa-contract")
    with Sandbox("pwa", directory, page_size=5, projects=2, tasks_per_project=10) as sb:
        yield sb


@pytest.fixture(scope="module")
def loaded(sandbox: Sandbox) -> LoadedConfig:
    return load_config(sandbox.config_path)


def _connector(loaded: LoadedConfig, **mapping_options: Any) -> PwaConnector:
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    config = config.model_copy(
        update={
            "odata": "verbose",
            "queue_poll_seconds": 0.05,
            "checkout_backoff_seconds": 0.05,
            "requests_per_second": 1000.0,
        }
    )
    mappings = loaded.mappings_for(NAME)
    if mapping_options:
        data = mappings[0].model_dump(mode="json")
        data["entities"].setdefault("project", {}).setdefault("options", {}).update(mapping_options)
        mappings = [TeamMapping.model_validate(data)]
    connector = get_connector(NAME, config, mappings, overlap_seconds=0.0)
    assert isinstance(connector, PwaConnector)
    return connector


def test_every_projectserver_response_the_connector_uses_matches_the_edmx(
    sandbox: Sandbox, loaded: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    emulator = sandbox.services[NAME].emulator
    assert isinstance(emulator, PwaEmulator)
    emulator.reset()
    emulator.configure({"job_polls": 1})
    captured: list[tuple[str, Any]] = []

    def capture(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/_api/ProjectServer" in response.url and response.content:
            captured.append((response.url, response.json()))

    connector = _connector(loaded)
    connector.session.hooks["response"].append(capture)
    items = [i for s in connector.scopes() for i in connector.pull(s, None, None)]
    assert items
    # a push: check-out, custom fields, draft task, publish, queue jobs
    project_id = str(emulator.projects()[0]["Id"])
    task = next(t for t in emulator.published(project_id).tasks if int(t["OutlineLevel"]) == 2)
    writes = [
        PlannedWrite(
            connection=NAME,
            entity_type=EntityType.PROJECT,
            canonical_id="canon-project",
            op="update",
            changes=[FieldChange("rag_computed", None, "R", "test")],
            external_id=project_id,
            outbox_id=1,
        ),
        PlannedWrite(
            connection=NAME,
            entity_type=EntityType.WORK_ITEM,
            canonical_id="canon-task",
            op="update",
            changes=[FieldChange("name", None, "Renamed by the contract test", "test")],
            external_id=str(task["Id"]),
            outbox_id=2,
        ),
    ]
    results = connector.push(writes)
    assert all(r.ok for r in results), results
    connector.close()

    types = load_edmx(EDMX_SPO)
    report = Report()
    for url, payload in captured:
        check_response(url, payload, types, report)
    assert not report.problems, "\n".join(report.distinct())
    assert set(report.seen) >= USED_TYPES, sorted(USED_TYPES - set(report.seen))
    for type_name in COMPLETE_TYPES:
        assert not report.missing.get(type_name), (type_name, sorted(report.missing[type_name]))
