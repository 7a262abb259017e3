"""References to records created in the same run (issue #11, item 3).

Base B lacks a project (and its milestones) that base A holds; base B's mapping creates what
it lacks. The project row and its milestone rows are created in one run, when the milestones'
Project link cannot be written yet (the project row has no id). The empty link read back from
the created rows must not take the project away from the milestones in the store, and the next
run fills the links in. Real pyairtable against two emulated bases.
"""

from __future__ import annotations

from typing import Any

from pyairtable import Api
from ruamel.yaml import YAML

from tests.e2e.conftest import fast_airtable
from tests.e2e.test_tombstones import store_rows


def test_milestones_created_with_their_project_get_the_project_link(make_slice: Any) -> None:
    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")))
    yaml = YAML()
    mapping_path = slice_.sandbox.directory / "teams" / "pmo_b.yaml"
    mapping = yaml.load(mapping_path.read_text())
    for entity in ("project", "milestone"):
        mapping["entities"][entity]["create_missing"] = True
    with mapping_path.open("w") as handle:
        yaml.dump(mapping, handle)
    service = slice_.service("pmo_b")
    credentials: Any = service.spec.credentials
    api = Api(credentials["token"], endpoint_url=service.url)
    api.session.verify = str(slice_.sandbox.ca.bundle_path)
    base = credentials["base_id"]
    # base B never had project #1: its row and its milestone rows go before the first sync
    project = api.table(base, "Projects").all()[0]
    code = project["fields"]["Code"]
    mine = [
        m["id"]
        for m in api.table(base, "Milestones").all()
        if m["fields"].get("Project") == [project["id"]]
    ]
    api.table(base, "Milestones").batch_delete(mine)
    api.table(base, "Projects").delete(project["id"])

    code_1, first = slice_.sync("--full")
    assert code_1 == 0, first
    entities, links = store_rows(slice_)
    milestone_ids = {lk.canonical_id for lk in links if lk.entity_type == "milestone"}
    [project_id] = [cid for cid, v in entities.items() if v.get("code") == code]
    its_milestones = [
        v for cid, v in entities.items() if cid in milestone_ids and v.get("project") == project_id
    ]
    assert its_milestones, "the project's milestones (from base A) lost their project"

    code_2, second = slice_.sync()
    assert code_2 == 0, second
    [row] = api.table(base, "Projects").all(formula=f"{{Code}} = '{code}'")
    linked = [
        m for m in api.table(base, "Milestones").all() if m["fields"].get("Project") == [row["id"]]
    ]
    assert len(linked) == len(its_milestones), second["plan"]
    entities, _links = store_rows(slice_)
    assert len(
        [v for c, v in entities.items() if c in milestone_ids and v.get("project") == project_id]
    ) == len(its_milestones)
    code_3, third = slice_.sync()
    assert code_3 == 0 and not [p for p in third["plan"] if p["connection"] == "pmo_b"], third
