"""Ambiguous identity (issue #11, item 5): two rows of one tool with one project code are both
quarantined with the reason; no second project (and no second register row) is made."""

from __future__ import annotations

from typing import Any

from pyairtable import Api

from tests.e2e.test_tombstones import store_rows


def test_a_project_code_used_twice_in_one_tool_quarantines_both(make_slice: Any) -> None:
    slice_ = make_slice()
    code, first = slice_.sync("--full")
    assert code == 0, first
    service = slice_.service()
    emulator: Any = service.emulator
    credentials: Any = service.spec.credentials
    base = credentials["base_id"]
    original = emulator.records(base, "Projects")[0]
    project_code = original["fields"]["Code"]
    api = Api(credentials["token"], endpoint_url=service.url)
    api.session.verify = str(slice_.sandbox.ca.bundle_path)
    # a person copies a row to start a new project and forgets to change the code
    twin = api.table(base, "Projects").create({"Name": "Copy of a project", "Code": project_code})

    code, report = slice_.sync()
    reasons = {q["external_id"]: q["reason"] for q in report["quarantined"]}
    assert set(reasons) >= {original["id"], twin["id"]}, report
    assert "ambiguous identity" in reasons[twin["id"]] and project_code in reasons[twin["id"]]
    entities, _links = store_rows(slice_)
    coded = [v for v in entities.values() if v.get("code") == project_code]
    assert len(coded) == 1, coded
    rows = [
        r for r in emulator.records(base, "Projects") if r["fields"].get("Code") == project_code
    ]
    assert len(rows) == 2  # the person's two rows, nothing added by pmo-sync

    api.table(base, "Projects").delete(twin["id"])  # fixed: the original syncs again
    code, fixed = slice_.sync()
    assert not [q for q in fixed["quarantined"] if q["external_id"] == original["id"]], fixed
