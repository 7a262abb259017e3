"""Creates that must never duplicate an issue: the marker label, a lost answer, a retry.

Cloud runs with the emulator's default search lag (a new issue is missing from search for a
few seconds), as on the real site; Data Center's search is consistent.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite
from pmosync.connectors.jira.marker import marker_label
from tests.connectors.jira.test_jira_connector import count, issues_of, pull, records

if TYPE_CHECKING:
    from tests.connectors.jira.conftest import Site

WORK = EntityType.WORK_ITEM
CREATE = "POST /rest/api/<ver>/issue"


def create(site: Site, name: str, **extra: Any) -> PlannedWrite:
    changes = [
        FieldChange("name", None, name, "new"),
        FieldChange("story_points", None, "5", "new"),
    ]
    changes += [FieldChange(field, None, value, "new") for field, value in extra.items()]
    return PlannedWrite(site.name, WORK, str(uuid.uuid4()), "create", changes)


def carrying(site: Site, label: str) -> list[Any]:
    with site.emulator.lock:
        return [i for i in site.emulator.state.issues.values() if label in i.fields["labels"]]


def lose_next_create(site: Site) -> None:
    """The next POST /issue is applied, and its answer never reaches the client."""
    prefix = f"/rest/api/{site.api}/issue"
    site.admin("POST", "faults", {"lose_response": {"count": 1, "path_prefix": prefix}})


def test_a_create_carries_its_marker_label_and_a_retry_finds_it(fresh: Site) -> None:
    write = create(fresh, "Payment retries", status="active")
    (made,) = fresh.connector().push([write])
    assert made.ok, made.error
    (issue,) = carrying(fresh, marker_label(write.canonical_id))
    assert str(issue.id) == made.external_id
    assert issue.properties["pmo-sync"] == {"id": write.canonical_id}
    # A new process (the next run) plans the same create again: the search by label finds the
    # issue (past Cloud's search lag by then), nothing is created twice.
    fresh.admin("POST", "config", {"search_lag_seconds": 0})  # the next run, minutes later
    (retried,) = fresh.connector().push([write])
    assert retried.ok and retried.external_id == made.external_id
    assert count(fresh, CREATE) == 1


def test_a_lost_create_answer_is_found_not_reported_failed_and_never_duplicated(
    fresh: Site,
) -> None:
    write = create(fresh, "Ledger export", status="active")
    lose_next_create(fresh)
    (result,) = fresh.connector().push([write])  # Cloud: the issue shows after the search lag
    assert result.ok, result.error
    (issue,) = carrying(fresh, marker_label(write.canonical_id))
    assert result.external_id == str(issue.id)
    # what the create could not carry was still applied to the issue it found
    assert fresh.emulator.issue(issue.key)["fields"]["status"]["statusCategory"]["key"] == (
        "indeterminate"
    )
    (again,) = fresh.connector().push([write])  # the next run retries the same create
    assert again.ok and again.external_id == result.external_id
    assert count(fresh, CREATE) == 1 and len(carrying(fresh, marker_label(write.canonical_id))) == 1


def test_a_lost_create_that_never_shows_is_reported_failed_with_what_happens_next(
    fresh: Site,
) -> None:
    write = create(fresh, "Vendor onboarding")
    # The connection drops before Jira answers and the issue never appears: Cloud with a
    # search lag far longer than the connector waits (a bulk reindex), DC with none at all.
    fresh.admin("POST", "config", {"search_lag_seconds": 600})
    lose_next_create(fresh)
    conn = fresh.connector()
    conn.writer.twin_settle_seconds = 1.0
    (result,) = conn.push([write])
    label = marker_label(write.canonical_id)
    if fresh.cloud:
        assert not result.ok and label in (result.error or "")
        assert "next run looks for it again" in (result.error or "")
        fresh.admin("POST", "config", {"search_lag_seconds": 0})  # the index caught up
        (later,) = fresh.connector().push([write])
        assert later.ok and later.external_id == str(carrying(fresh, label)[0].id)
    else:
        assert result.ok, result.error  # DC's search is consistent: found at once
    assert count(fresh, CREATE) == 1 and len(carrying(fresh, label)) == 1


def test_the_marker_is_not_data_and_survives_a_labels_edit(fresh: Site) -> None:
    mapping = fresh.mapping()
    fields = {
        name: spec.model_dump(mode="json", exclude_defaults=True)
        for name, spec in mapping.entities[WORK].fields.items()
    }
    fields["labels"] = {"field": "labels"}  # both ways
    both = fresh.mapping(work_item={"fields": fields})
    write = create(fresh, "Audit trail", labels=["compliance"])
    conn = fresh.connector(mapping=both)
    (made,) = conn.push([write])
    assert made.ok, made.error
    label = marker_label(write.canonical_id)
    pulled = records(pull(conn), WORK)[made.external_id or ""]
    assert pulled.values["labels"] == ["compliance"]
    edit = PlannedWrite(
        fresh.name, WORK, write.canonical_id, "update",
        [FieldChange("labels", ["compliance"], ["compliance", "q3"], "edit")],
        external_id=made.external_id,
    )  # fmt: skip
    (edited,) = conn.push([edit])
    assert edited.ok, edited.error
    (issue,) = carrying(fresh, label)
    assert issue.fields["labels"] == ["compliance", "q3", label]


def test_jql_on_an_unindexed_entity_property_finds_nothing(fresh: Site) -> None:
    """What the old twin search relied on: real Jira indexes only the property paths an app
    declared, so the clause is valid and matches nothing."""
    story = issues_of(fresh, "Story")[0]
    conn = fresh.connector()
    conn.client.server_info()
    path = f"issue/{story.id}/properties/pmo-sync"
    conn.client.jira._session.put(conn.client.url(path), data='{"id": "abc"}')
    jql = 'issue.property[pmo-sync].id = "abc"'
    fresh.admin("POST", "config", {"search_lag_seconds": 0})
    assert list(conn.client.search(jql, fields=["summary"])) == []
    fresh.admin("POST", "config", {"entity_property_indexes": ["pmo-sync.id"]})  # an app's
    found = list(conn.client.search(jql, fields=["summary"]))
    assert [i["id"] for i in found] == [str(story.id)]
