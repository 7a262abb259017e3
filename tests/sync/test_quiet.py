"""The quiet test (sync/quiet.py ``unchanged``) asks exactly what ingest (sync/identify.py)
would find: a pull is quiet if and only if ingesting it into the loaded store adds, revives or
changes nothing the merge reads. Each case is decided both ways on one store and compared.

The store is built by ingest itself (no hand-made link rows), so representation questions (a
JSON round trip of dates, lists, floats, missing keys) are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from pmosync.canonical_model import EntityType, ExternalRef, PulledRecord, RemotePointer
from pmosync.sync.identify import ingest
from pmosync.sync.quiet import Previous, record_echoes, unchanged
from pmosync.sync.state import WorkingState, load_state, persist
from pmosync.sync.store import Store

IDENTITY = {EntityType.PROJECT: "code"}
CONN = "pmo"


def project(rec: str, code: str, name: str, **extra: Any) -> PulledRecord:
    values = {"name": name, "code": code, **extra}
    return PulledRecord(ExternalRef(CONN, EntityType.PROJECT, rec, version_token="v1"), values)


def milestone(rec: str, name: str, project_rec: str, version: str = "v1") -> PulledRecord:
    return PulledRecord(
        ExternalRef(CONN, EntityType.MILESTONE, rec, version_token=version),
        {"name": name, "due": "2026-12-01"},
        pointers={"project": RemotePointer(EntityType.PROJECT, project_rec)},
    )


def first_pull() -> list[PulledRecord]:
    return [
        project("recA", "P001", "Apollo", tags=["x", "y"], budget=1.5),
        project("recB", "P002", "Borealis"),
        milestone("recM1", "Go-live", "recA"),
        # its project is not in this tool yet: a dangling reference, resolved to None
        milestone("recM2", "Kick-off", "recC"),
    ]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    state = load_state(opened)
    ingest(state, {CONN: first_pull()}, IDENTITY)
    persist(opened, state)
    yield opened
    opened.close()


def ingest_finds(store: Store, pulled: list[PulledRecord]) -> tuple[bool, list[str]]:
    """(ingest changes nothing the merge reads, the records it quarantines as ambiguous),
    on a copy of the store's state that is not written back."""
    state = load_state(store)
    before = {key: (dict(lk.remote_values), dict(lk.pointers)) for key, lk in state.links.items()}
    stats = ingest(state, {CONN: pulled}, IDENTITY, unique_in={CONN})
    after = {key: (lk.remote_values, lk.pointers) for key, lk in state.links.items()}
    named = all(
        before[key][1].get(k) == v
        for key, (_, pointers) in after.items()
        if key in before
        for k, v in pointers.items()
        if v.startswith("named:")
    )
    same = (
        set(after) == set(before)
        and not stats.revived
        and all(before[key][0] == remote for key, (remote, _) in after.items())
        and named
    )
    return same, sorted(q.external_id for q in stats.ambiguous)


def quiet_finds(store: Store, pulled: list[PulledRecord]) -> tuple[bool, list[str]]:
    echoes = unchanged(store, {CONN: pulled}, IDENTITY, unique_in={CONN})
    ambiguous = sorted(q.external_id for q in echoes.ambiguous) if echoes else []
    return echoes is not None, ambiguous


def agree(store: Store, pulled: list[PulledRecord]) -> bool:
    """Both tests answer the same; returns whether the pull is quiet."""
    quiet, quiet_ambiguous = quiet_finds(store, pulled)
    same, ingest_ambiguous = ingest_finds(store, pulled)
    assert quiet == same, f"quiet test says {quiet}, ingest says {same}"
    if quiet:
        assert quiet_ambiguous == ingest_ambiguous
    return quiet


def renamed(record: PulledRecord, **values: Any) -> PulledRecord:
    return PulledRecord(record.ref, {**record.values, **values}, dict(record.pointers))


def test_the_same_pull_again_is_quiet(store: Store) -> None:
    assert agree(store, first_pull())


def test_records_sharing_an_identity_key_in_one_tool_are_no_change(store: Store) -> None:
    # portfolio-M: Jira project categories under three programme names; here a register row
    # copied with its code. Ingest quarantines both and reads neither; the quiet test did
    # not, found the copy unlinked and kept every later run from being quiet.
    pull = [*first_pull(), project("recA2", "P001", "Apollo (copy)")]
    assert agree(store, pull)
    assert quiet_finds(store, pull)[1] == ["recA", "recA2"]


def test_a_changed_value_is_a_change(store: Store) -> None:
    pull = first_pull()
    pull[1] = renamed(pull[1], name="Borealis 2")
    assert not agree(store, pull)


def test_a_value_added_or_removed_is_a_change(store: Store) -> None:
    pull = first_pull()
    pull[1] = renamed(pull[1], status="active")
    assert not agree(store, pull)
    pull = first_pull()
    pull[0] = project("recA", "P001", "Apollo", tags=["x"], budget=1.5)
    assert not agree(store, pull)


def test_a_reference_moved_to_another_record_is_a_change(store: Store) -> None:
    pull = first_pull()
    pull[2] = milestone("recM1", "Go-live", "recB")
    assert not agree(store, pull)


def test_a_dangling_reference_whose_target_was_linked_since_is_a_change(store: Store) -> None:
    # the target arrives in one run (its referrer not re-read), the referrer in the next one
    state = load_state(store)
    ingest(state, {CONN: [project("recC", "P003", "Cassini")]}, IDENTITY)
    persist(store, state)
    # the same milestone, same content hash as when read: ingest resolves it anyway
    assert not agree(store, first_pull())


def test_the_echo_of_our_reference_write_is_no_change(
    store: Store, edit_link: Callable[..., None]
) -> None:
    # we moved milestone M1 to project B (apply: the link holds B's canonical id, its pointer
    # still says recA); the tool gives it back pointing at recB
    state = load_state(store)
    b = state.links[(CONN, "project", "recB")].canonical_id
    edit_link("recM1", remote_values={"project": b})
    echo = milestone("recM1", "Go-live", "recB", version="v2")
    pull = [*first_pull()[:2], echo, first_pull()[3]]
    assert agree(store, pull)
    echoes = unchanged(store, {CONN: pull}, IDENTITY)
    assert echoes is not None
    [version] = echoes.versions  # the pointer is stored as ingest stores it
    assert version["pointers"] == {"project": "recB"} and version["version_token"] == "v2"
    with store.session() as session:
        record_echoes(session, echoes)
    assert load_state(store).links[(CONN, "milestone", "recM1")].pointers == {"project": "recB"}
    # and the tool putting it back on recA afterwards is a person's change
    assert not agree(store, first_pull())


def test_the_echo_of_our_value_write_is_no_change(
    store: Store, edit_link: Callable[..., None]
) -> None:
    edit_link("recB", remote_values={"rag": "R"})  # we wrote RAG red
    pull = first_pull()
    pull[1] = renamed(pull[1], rag="R")
    assert agree(store, pull)
    pull[1] = renamed(pull[1], rag="G")  # a person overwrote it
    assert not agree(store, pull)


@pytest.fixture
def edit_link(store: Store) -> Callable[..., None]:
    """What apply leaves on a link after one of our writes: the values it wrote."""

    def edit(rec: str, *, remote_values: dict[str, Any]) -> None:
        state: WorkingState = load_state(store)
        [link] = [lk for lk in state.links.values() if lk.external_id == rec]
        link.remote_values = {**link.remote_values, **remote_values}
        link.dirty = True
        persist(store, state)

    return edit


def test_a_person_putting_back_what_we_overwrote_is_a_change(store: Store) -> None:
    """After our write (the link holds our value, its hash is still the last read's), the
    record comes back with the last read's content: saved again (a new version) it is a
    person's revert, which must be taken; with the last read's version it is the last read
    again (a lagging search index), and our write stands."""
    state = load_state(store)
    link = state.links[(CONN, EntityType.PROJECT.value, "recB")]
    link.remote_values = {**link.remote_values, "name": "Borealis (ours)"}  # as apply leaves it
    link.dirty = True
    persist(store, state)
    stale = first_pull()
    assert agree(store, stale)  # the last read again: quiet, our write stands
    reverted = first_pull()
    reverted[1] = PulledRecord(
        ExternalRef(CONN, EntityType.PROJECT, "recB", version_token="v2"), dict(reverted[1].values)
    )
    assert not agree(store, reverted)
    state = load_state(store)
    ingest(state, {CONN: reverted}, IDENTITY)
    assert state.links[(CONN, EntityType.PROJECT.value, "recB")].remote_values["name"] == "Borealis"


# -- converged: the run a quiet run may stand on (Previous.converged_with) -----------------

DAY = "2026-11-20"


def previous(**report: Any) -> bool:
    """Whether a finished run with this report counts as converged on its inputs and day."""
    base: dict[str, Any] = {
        "inputs": "same",
        "today": DAY,
        "connections": {"pmo": {"status": "ok", "writes_planned": 2, "writes_applied": 2}},
        "plan": [{"op": "create"}, {"op": "update"}],
        "deferred": [],
        "conflicts": [],
    }
    return Previous(1, "ok", {**base, **report}).converged_with("same", date.fromisoformat(DAY))


def test_a_run_whose_creates_all_landed_and_left_nothing_converged() -> None:
    assert previous()
    # a conflict a policy settled is written everywhere: no reason to look again
    assert previous(conflicts=[{"field": "status", "held": False}])
    # one held for a person stays held (reported again by the quiet run)
    assert previous(conflicts=[{"field": "status", "held": True}])


def test_a_run_that_left_something_or_lost_a_write_did_not_converge() -> None:
    left = [{"connection": "pmo", "reason": "project left out: its target is created in pmo"}]
    assert not previous(deferred=left)
    failed = {"pmo": {"status": "ok", "writes_planned": 2, "writes_applied": 1}}
    assert not previous(connections=failed)
    failed = {"pmo": {"status": "ok", "writes_planned": 2, "writes_applied": 2, "writes_failed": 1}}
    assert not previous(connections=failed)
    # a report stored before plans said what they left: its creates may have left something
    older = {"plan": [{"op": "create"}], "inputs": "same", "today": DAY, "connections": {}}
    assert not Previous(1, "ok", older).converged_with("same", date.fromisoformat(DAY))
    assert Previous(1, "ok", {**older, "plan": [{"op": "update"}]}).converged_with(
        "same", date.fromisoformat(DAY)
    )
