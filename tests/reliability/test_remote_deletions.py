"""A record deleted in a tool while pmo-sync holds a change for it (issue #11, item 2).

Two Airtable bases hold the same projects (matched by code). A person deletes a project row in
one base and renames the project in the other: the rename's write meets a 404. The link is
tombstoned and reported once, the run is not a failure, and no write is re-planned forever.
Real pyairtable against the emulator.
"""

from __future__ import annotations

from typing import Any

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


def test_a_row_deleted_under_a_pending_change_is_tombstoned_once_and_recreated(
    make_slice: Any,
) -> None:
    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")), mapping_edit=_create_projects)
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

    # The person's deletion stands: the engine never re-creates a record someone deleted in
    # a tool (sync/engine.py _plan, the tombstone rule), create_missing or not; and nothing is
    # planned for the dead row again.
    for _ in range(2):
        code, after = slice_.sync()
        assert code == 0 and after["write_errors"] == [] and after["tombstoned"] == [], after
        assert not [p for p in after["plan"] if p["connection"] == "pmo_a"], after["plan"]
    assert api_a.table(base_a, "Projects").all(formula=f"{{Code}} = '{project_code}'") == []
    rows_b = api_b.table(base_b, "Projects").all(formula=f"{{Code}} = '{project_code}'")
    assert [r["fields"]["Name"] for r in rows_b] == ["Renamed in base B"]
