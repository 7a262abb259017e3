from __future__ import annotations

from datetime import UTC, datetime

from pmosync.sync.reconcile import MISSING, FieldPolicy, Observation, merge

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 2, tzinfo=UTC)
LATEST = FieldPolicy("latest")


def obs(**values: object) -> dict[str, Observation]:
    return {k: Observation(v, T1) for k, v in values.items()}


def test_unchanged_everywhere_keeps_the_value() -> None:
    d = merge(
        obs(jira="active", airtable="active"),
        {"jira": "active", "airtable": "active"},
        "active",
        LATEST,
    )
    assert (d.value, d.conflict) == ("active", False)


def test_one_changed_system_wins_over_unchanged_ones() -> None:
    bases = {"jira": "active", "airtable": "active"}
    d = merge(obs(jira="done", airtable="active"), bases, "active", LATEST)
    assert d.value == "done" and not d.conflict and "jira" in d.reason


def test_several_agreeing_changes_are_not_a_conflict() -> None:
    bases = dict.fromkeys(("jira", "airtable", "pwa"), "active")
    d = merge(obs(jira="done", airtable="done", pwa="active"), bases, "active", LATEST)
    assert d.value == "done" and not d.conflict


def test_disagreeing_changes_latest_wins_by_modification_time() -> None:
    observed = {"jira": Observation("done", T1), "airtable": Observation("on_hold", T2)}
    d = merge(observed, {"jira": "active", "airtable": "active"}, "active", LATEST)
    assert d.value == "on_hold" and d.conflict


def test_authority_wins_a_conflict() -> None:
    observed = {"jira": Observation("done", T1), "airtable": Observation("on_hold", T2)}
    bases = {"jira": "active", "airtable": "active"}
    d = merge(observed, bases, "active", FieldPolicy("authority", "jira"))
    assert d.value == "done" and d.conflict and "authority" in d.reason


def test_hold_keeps_the_current_value_and_flags_it() -> None:
    bases = {"jira": "active", "airtable": "active"}
    d = merge(obs(jira="done", airtable="on_hold"), bases, "active", FieldPolicy("hold"))
    assert d.value == "active" and d.conflict and d.held


def test_first_sight_agreement_and_disagreement() -> None:
    assert merge(obs(a=1, b=1), {}, MISSING, LATEST).value == 1
    observed = {"a": Observation(1, T2), "b": Observation(2, T1)}
    d = merge(observed, {}, MISSING, LATEST)
    assert d.value == 1 and d.conflict


def test_a_cleared_value_is_a_change() -> None:
    d = merge(obs(jira=None, airtable="x"), {"jira": "x", "airtable": "x"}, "x", LATEST)
    assert d.value is None and not d.conflict


def test_a_feed_only_system_that_always_differed_is_not_a_change() -> None:
    # PWA only feeds the name and is never written: after the first decision it keeps its own
    # value as its base, so the next runs report nothing; an edit in PWA is a change again.
    bases = {"pwa": "Intranet Refresh", "airtable": "Intranet 2.0"}
    observed = obs(pwa="Intranet Refresh", airtable="Intranet 2.0")
    d = merge(observed, bases, "Intranet 2.0", LATEST)
    assert (d.value, d.conflict) == ("Intranet 2.0", False)
    d = merge(obs(pwa="Intranet Refresh 2", airtable="Intranet 2.0"), bases, "Intranet 2.0", LATEST)
    assert d.value == "Intranet Refresh 2" and not d.conflict


def test_a_newly_linked_system_brings_news_only_where_it_disagrees() -> None:
    bases = {"airtable": "active"}
    assert (
        merge(obs(airtable="active", jira="active"), bases, "active", LATEST).reason == "unchanged"
    )
    d = merge(obs(airtable="active", jira="done"), bases, "active", LATEST)
    assert d.value == "done" and "jira" in d.reason
