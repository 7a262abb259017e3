"""The memory of our own publishes is a hint: whatever happens to its file, a plan is read
again rather than skipped wrongly."""

from __future__ import annotations

import stat
from pathlib import Path

from pmosync.connectors.msproject.own_publishes import OwnPublishes

OURS = {"LastPublishedDate": "2026-12-02T01:00:05", "LastSavedDate": "2026-12-02T01:00:05"}


def test_a_recorded_publish_is_ours_until_any_stamp_changes(tmp_path: Path) -> None:
    path = tmp_path / "memory" / "plans.own-publishes.json"
    memory = OwnPublishes(path)
    memory.record("p1", OURS)
    memory.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = OwnPublishes(path)
    assert again.ours("p1", dict(OURS))
    # the same instant in the other date form the server may send
    assert again.ours("p1", {**OURS, "LastSavedDate": "2026-12-02T01:00:05.000"})
    assert not again.ours("p1", {**OURS, "LastSavedDate": "2026-12-02T01:03:00"})
    assert not again.ours("p2", dict(OURS))
    again.forget("p1")
    again.save()
    assert not OwnPublishes(path).ours("p1", dict(OURS))


def test_a_project_without_both_stamps_is_never_ours(tmp_path: Path) -> None:
    memory = OwnPublishes(tmp_path / "m.json")
    memory.record("p1", {"LastPublishedDate": OURS["LastPublishedDate"]})
    assert not memory.ours("p1", {"LastPublishedDate": OURS["LastPublishedDate"]})


def test_an_unreadable_file_only_costs_the_reread(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    assert not OwnPublishes(path).ours("p1", dict(OURS))
    path.write_text('["a list"]')
    assert not OwnPublishes(path).ours("p1", dict(OURS))
