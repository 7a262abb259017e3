"""A record deleted in a tool while pmo-sync holds a change for it (issue #11, item 2).

Two Airtable bases hold the same projects (matched by code). A person deletes a project row in
one base and renames the project in the other: the rename's write meets a 404. The link is
tombstoned and reported once, and the run is not a failure. Where the mapping has
``create_missing`` the project is created again there, once, with the reason; without it the
deletion stands and nothing is re-planned. Real pyairtable against the emulator.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyairtable import Api

from tests.e2e.conftest import fast_airtable


def _api(slice_: Any, name: str) -> tuple[Api, str]:
    service = slice_.service(name)
    credentials: Any = service.spec.credentials
    api = Api(credentials["token"], endpoint_url=service.url)
    api.session.verify = str(slice_.sandbox.ca.bundle_path)
    return api, credentials["base_id"]


def _create_projects(mapping: Any) -> None:
    mapping["entities"]["project"]["create_missing"] = True


def _no_creates(mapping: Any) -> None:
    mapping["entities"]["project"]["create_missing"] = False


def _delete_under_a_change(slice_: Any) -> tuple[str, str, dict[str, Any]]:
    """Sync, delete a project row in base A, rename it in base B, sync: the write meets a 404.

    Returns the project code, the deleted row's id and the run's report.
    """
    code, first = slice_.sync("--full")
    assert code == 0, first
    api_a, base_a = _api(slice_, "pmo_a")
    api_b, base_b = _api(slice_, "pmo_b")
    row_a = api_a.table(base_a, "Projects").all()[0]
    project_code = row_a["fields"]["Code"]
    [row_b] = api_b.table(base_b, "Projects").all(formula=f"{{Code}} = '{project_code}'")
    api_a.table(base_a, "Projects").delete(row_a["id"])
    api_b.table(base_b, "Projects").update(row_b["id"], {"Name": "Renamed in base B"})

    code, found = slice_.sync()
    assert code == 0, found  # not a failed write, not exit 6
    assert found["write_errors"] == [], found["write_errors"]
    [gone] = [t for t in found["tombstoned"] if t["external_id"] == row_a["id"]]
    assert gone["connection"] == "pmo_a" and gone["found"] == "on write"
    assert project_code in gone["label"]
    return project_code, row_a["id"], found


def _rows(slice_: Any, name: str, project_code: str) -> list[dict[str, Any]]:
    api, base = _api(slice_, name)
    return api.table(base, "Projects").all(formula=f"{{Code}} = '{project_code}'")


def test_a_row_deleted_under_a_pending_change_is_recreated_once_where_creation_is_allowed(
    make_slice: Any,
) -> None:
    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")), mapping_edit=_create_projects)
    project_code, deleted_id, _ = _delete_under_a_change(slice_)

    # create_missing is on: the next run creates the project again in base A, with the change
    # that met the deletion, and says why
    code, again = slice_.sync()
    assert code == 0 and again["write_errors"] == [], again
    [create] = [p for p in again["plan"] if p["connection"] == "pmo_a"]
    assert create["op"] == "create"
    assert all(c["reason"].startswith("re-created: pmo_a " + deleted_id) for c in create["changes"])
    [notice] = [n for n in again["notices"] if "re-created" in n]
    assert project_code in notice and "create_missing" in notice
    [row] = _rows(slice_, "pmo_a", project_code)
    assert row["id"] != deleted_id and row["fields"]["Name"] == "Renamed in base B"

    # once: nothing more is planned, and no second row appears
    code, after = slice_.sync("--full")
    assert code == 0 and after["plan"] == [] and after["tombstoned"] == [], after
    assert len(_rows(slice_, "pmo_a", project_code)) == 1

    # a second deletion of the re-created row stands: tombstoned by the --full listing, never
    # created a third time
    api_a, base_a = _api(slice_, "pmo_a")
    api_a.table(base_a, "Projects").delete(row["id"])
    code, second = slice_.sync("--full")
    assert code == 0 and [t["external_id"] for t in second["tombstoned"]] == [row["id"]], second
    code, later = slice_.sync("--full")
    assert code == 0 and not [p for p in later["plan"] if p["connection"] == "pmo_a"], later
    assert _rows(slice_, "pmo_a", project_code) == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the store: as above
def test_without_create_missing_the_deletion_stands_and_nothing_is_replanned(
    make_slice: Any,
) -> None:
    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")), mapping_edit=_no_creates)
    project_code, _, _ = _delete_under_a_change(slice_)

    for _ in range(2):
        code, after = slice_.sync()
        assert code == 0 and after["write_errors"] == [] and after["tombstoned"] == [], after
        assert not [p for p in after["plan"] if p["connection"] == "pmo_a"], after["plan"]
        assert not [n for n in after["notices"] if "re-created" in n], after["notices"]
    assert _rows(slice_, "pmo_a", project_code) == []
    assert [r["fields"]["Name"] for r in _rows(slice_, "pmo_b", project_code)] == [
        "Renamed in base B"
    ]
