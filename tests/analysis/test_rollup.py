"""Programme and portfolio roll-ups: each rule, with the reason it gives."""

from __future__ import annotations

from datetime import date

from pmosync.analysis.rollup import (
    LinkFacts,
    MemberFacts,
    MilestoneFacts,
    RaidFacts,
    RollupRules,
    as_member,
    critical_chain,
    dependency_health,
    group_rag,
    milestone_summary,
    raid_counts,
    rollup_group,
    slip,
    weighted_percent,
    working_days,
)

TODAY = date(2026, 11, 20)  # a Friday


def member(pid: str, rag: str | None, **kw: object) -> MemberFacts:
    return MemberFacts(id=pid, label=pid.upper(), rag=rag, **kw)  # type: ignore[arg-type]


def test_a_red_key_project_makes_the_programme_red_and_says_which() -> None:
    rag, reasons = group_rag(
        [member("a", "R", key=True), *(member(c, "G") for c in "bcdef")], RollupRules()
    )
    assert rag == "R"
    assert reasons[0] == "key project A is red"


def test_red_share_threshold_is_configurable() -> None:
    members = [member("a", "R"), member("b", "G"), member("c", "G")]
    assert group_rag(members, RollupRules())[0] == "R"  # 1 of 3 >= one third
    rag, reasons = group_rag(members, RollupRules(red_share=0.5))
    assert rag == "A" and reasons == ("A red",)


def test_amber_from_any_amber_member_and_green_otherwise() -> None:
    assert group_rag([member("a", "A"), member("b", "G")], RollupRules()) == ("A", ("A amber",))
    assert group_rag([member("a", "G"), member("b", "G")], RollupRules()) == (
        "G",
        ("2 projects green",),
    )


def test_closed_members_do_not_count_and_nothing_open_is_grey() -> None:
    members = [member("a", "R", status="done"), member("b", "G")]
    assert group_rag(members, RollupRules())[0] == "G"
    assert group_rag([member("a", "R", status="cancelled")], RollupRules()) == (
        "grey",
        ("no open project",),
    )


def test_working_days_skip_weekends_and_holidays_and_are_signed() -> None:
    assert working_days(date(2026, 11, 20), date(2026, 11, 27)) == 5
    assert working_days(date(2026, 11, 27), date(2026, 11, 20)) == -5
    assert (
        working_days(date(2026, 11, 20), date(2026, 11, 27), frozenset({date(2026, 11, 23)})) == 4
    )


def test_next_and_overdue_milestones_ignore_done_ones() -> None:
    ms = [
        MilestoneFacts("p", "M1", date(2026, 11, 1)),
        MilestoneFacts("p", "M0", date(2026, 10, 1)),
        MilestoneFacts("p", "Mdone", date(2026, 10, 1), done=True),
        MilestoneFacts("p", "M3", date(2026, 12, 5)),
        MilestoneFacts("p", "M2", TODAY),  # due today is not overdue
    ]
    assert milestone_summary(ms, TODAY) == ("M2", TODAY, ("M0", "M1"))


def test_slip_is_the_worst_open_milestone_against_its_baseline_with_the_forecast_first() -> None:
    ms = [
        MilestoneFacts("p", "A", date(2026, 12, 1), baseline_due=date(2026, 11, 24)),
        MilestoneFacts(
            "p", "B", date(2026, 12, 1), baseline_due=date(2026, 11, 23), forecast=date(2026, 12, 7)
        ),
        MilestoneFacts("p", "C", date(2027, 1, 1), baseline_due=date(2026, 1, 1), done=True),
    ]
    days, reason = slip(ms)
    assert days == 10 and reason == "B 2026-11-23 → 2026-12-07"
    assert slip([MilestoneFacts("p", "X", date(2026, 12, 1))]) == (None, "")


def test_dependency_health_counts_in_and_out_of_the_group() -> None:
    links = [
        LinkFacts("1", "a", "b"),  # inside, fine
        LinkFacts("2", "x", "a", "violation", 3, "X-1 must finish before A-2"),  # inbound
        LinkFacts("3", "b", "y", "at_risk", 1, "B-1 then Y-1"),  # outbound
        LinkFacts("4", "x", "y", "violation", 9, "elsewhere"),  # not ours
    ]
    health = dependency_health(links, frozenset({"a", "b"}))
    assert (health.violated, health.at_risk, health.fine) == (1, 1, 1)
    assert (health.inbound, health.outbound) == (1, 1)
    assert health.worst == "X-1 must finish before A-2"
    assert health.text == "1 violated, 1 at risk, 1 fine (1 in, 1 out)"


def test_raid_counts_by_severity_open_items_of_the_group_only() -> None:
    items = [
        RaidFacts("a", None, 5, 4),  # 20 high
        RaidFacts("a", None, 3, 3),  # 9 medium
        RaidFacts("b", "active", 1, 2),  # 2 low
        RaidFacts("b", "done", 5, 5),  # closed
        RaidFacts("z", None, 5, 5),  # another group
    ]
    assert raid_counts(items, frozenset({"a", "b"})) == {"high": 1, "medium": 1, "low": 1}


def test_percent_complete_is_weighted_by_duration() -> None:
    members = [
        member("a", "G", percent_complete=100.0, duration_days=10),
        member("b", "G", percent_complete=0.0, duration_days=30),
        member("c", "G"),  # unknown: left out
    ]
    assert weighted_percent(members) == 25.0
    assert weighted_percent([member("c", "G")]) is None


def test_critical_chain_runs_to_the_groups_last_critical_item() -> None:
    paths = {"t3": ["t0", "t1", "t3"], "t2": ["t0", "t2"]}
    chain = critical_chain(
        {
            "t0": date(2026, 11, 1),
            "t1": date(2026, 11, 5),
            "t2": date(2026, 11, 6),
            "t3": date(2026, 12, 1),
        },
        ["t0", "t1", "t2", "t3"],
        lambda item: paths[item],
        {"t0": "other", "t1": "a", "t2": "a", "t3": "b"},
        frozenset({"a", "b"}),
        lambda item: item.upper(),
    )
    assert chain == ("T0", "T1", "T3")  # it starts in another programme: that is what drives


def test_rollup_group_puts_it_together_with_a_status_line_and_fields() -> None:
    rollup = rollup_group(
        "prog",
        "PRG Digital",
        [member("a", "G", percent_complete=50.0), member("b", "A", percent_complete=10.0)],
        projects=frozenset({"a", "b"}),
        milestones=[
            MilestoneFacts("a", "A-go-live", date(2026, 12, 1), baseline_due=date(2026, 11, 24)),
            MilestoneFacts("b", "B-design", date(2026, 11, 2)),
        ],
        links=[LinkFacts("l", "a", "b", "violation", 12.0, "A-1 → B-2 (FS): B-2 starts too early")],
        raid=[RaidFacts("a", None, 5, 5)],
        today=TODAY,
        chain=("A-1", "B-2"),
    )
    # a violation of 12 working days passes red_violation_days (10): red, and it says why
    assert rollup.rag == "R"
    assert rollup.reasons[0] == "A-1 → B-2 (FS) is 12 working days short"
    assert "B amber" in rollup.reasons
    assert rollup.overdue == ("B-design",) and rollup.next_milestone == "A-go-live"
    assert rollup.slip_days == 5 and rollup.percent_complete == 30.0
    fields = rollup.fields()
    assert fields["rag_computed"] == "R" and fields["overdue_milestones"] == 1
    assert fields["raid_summary"] == "1 high" and fields["critical_chain"] == "A-1 → B-2"
    assert fields["next_milestone_date"] == "2026-12-01" and fields["slip_days"] == "5"
    assert "next: A-go-live on 2026-12-01" in fields["pmo_status"]
    assert "slipped 5 working days (A-go-live 2026-11-24 → 2026-12-01)" in fields["pmo_status"]
    assert "1 dependency violated" in fields["pmo_status"]


def test_portfolio_rolls_up_programmes_as_members() -> None:
    green = rollup_group(
        "p1",
        "P1",
        [member("a", "G")],
        projects=frozenset({"a"}),
        milestones=[],
        links=[],
        raid=[],
        today=TODAY,
    )
    red = rollup_group(
        "p2",
        "P2",
        [member("b", "R", key=True)],
        projects=frozenset({"b"}),
        milestones=[],
        links=[],
        raid=[],
        today=TODAY,
    )
    portfolio = rollup_group(
        "pf",
        "Portfolio",
        [as_member(green), as_member(red, key=True)],
        projects=frozenset({"a", "b"}),
        milestones=[],
        links=[],
        raid=[],
        today=TODAY,
        noun="programme",
    )
    assert portfolio.rag == "R" and portfolio.reasons[0] == "key programme P2 is red"
    assert portfolio.by_rag == {"G": 1, "R": 1}
