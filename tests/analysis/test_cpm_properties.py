"""Properties of compute_schedule on random networks (hypothesis)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.cpm import CpmLink, CpmTask, ScheduleCycleError, compute_schedule

CAL = standard_calendar()
START = datetime(2027, 1, 4, 8)
DURATIONS = st.sampled_from([0, 60, 240, 480, 960, 2400])
LAGS = st.sampled_from([0, 0, 0, 120, 480, -240])
KINDS = st.sampled_from(["FS", "FS", "FS", "SS", "FF", "SF"])


@st.composite
def networks(draw: st.DrawFn, *, acyclic: bool = True) -> tuple[list[CpmTask], list[CpmLink]]:
    n = draw(st.integers(min_value=1, max_value=25))
    tasks = [CpmTask(f"T{i}", draw(DURATIONS)) for i in range(n)]
    links = []
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    for a, b in pairs:
        if acyclic:
            if a == b:
                continue
            a, b = min(a, b), max(a, b)
        links.append(CpmLink(f"T{a}", f"T{b}", draw(KINDS), float(draw(LAGS))))
    return tasks, links


def required_start(link: CpmLink, es: float, ef: float, d_succ: float) -> float:
    """The successor's earliest start a link allows, in working minutes."""
    lag = link.lag_minutes
    return {
        "FS": ef + lag,
        "SS": es + lag,
        "FF": ef + lag - d_succ,
        "SF": es + lag - d_succ,
    }[link.type]


@settings(max_examples=150, deadline=None)
@given(networks())
def test_early_before_late_and_every_link_satisfied(
    network: tuple[list[CpmTask], list[CpmLink]],
) -> None:
    tasks, links = network
    result = compute_schedule(tasks, links, default_calendar=CAL, project_start=START)
    w = {t.id: CAL.to_work for t in tasks}
    durations = {t.id: t.duration_minutes for t in tasks}
    for t in tasks:
        s = result.tasks[t.id]
        es, ef = CAL.to_work(s.early_start), CAL.to_work(s.early_finish)
        ls, lf = CAL.to_work(s.late_start), CAL.to_work(s.late_finish)
        assert es <= ls + 1e-6 and ef <= lf + 1e-6
        assert ef - es == durations[t.id] and lf - ls == durations[t.id]
        assert s.total_slack_minutes >= 0  # nothing constrains these networks
        assert 0 <= s.free_slack_minutes <= s.total_slack_minutes
        assert s.critical == (s.total_slack_minutes <= 0)
        assert es >= CAL.to_work(START)
    for link in links:
        p, s = result.tasks[link.predecessor], result.tasks[link.successor]
        need = required_start(
            link,
            w[link.predecessor](p.early_start),
            CAL.to_work(p.early_finish),
            durations[link.successor],
        )
        assert CAL.to_work(s.early_start) >= need - 1e-6


@settings(max_examples=150, deadline=None)
@given(networks())
def test_a_zero_slack_driving_chain_runs_from_the_start_to_the_finish(
    network: tuple[list[CpmTask], list[CpmLink]],
) -> None:
    tasks, links = network
    result = compute_schedule(tasks, links, default_calendar=CAL, project_start=START)
    finish = result.project_finish[None]
    # A task that ends the project is critical, and its driving chain is critical back to a
    # task with nothing driving it, which starts at the project start (or where an FF/SF link
    # with a long lag... cannot put it: no constraints here, so the project start).
    last = [
        tid for tid, s in result.tasks.items() if CAL.to_work(s.early_finish) == CAL.to_work(finish)
    ]
    assert last
    for tid in last:
        chain = result.critical_path_to(tid)
        assert chain[-1] == tid
        assert all(result.tasks[c].critical for c in chain)
        first = result.tasks[chain[0]]
        assert CAL.to_work(first.early_start) == CAL.to_work(START) or first.driving_predecessors


@settings(max_examples=150, deadline=None)
@given(networks(acyclic=False))
def test_cycles_are_found_with_a_valid_witness(
    network: tuple[list[CpmTask], list[CpmLink]],
) -> None:
    tasks, links = network
    pairs = {(link.predecessor, link.successor) for link in links}
    try:
        compute_schedule(tasks, links, default_calendar=CAL, project_start=START)
    except ScheduleCycleError as error:
        assert error.cycles
        seen: set[str] = set()
        for cycle in error.cycles:
            assert all((cycle[k], cycle[(k + 1) % len(cycle)]) in pairs for k in range(len(cycle)))
            assert not seen & set(cycle)  # one witness per component
            seen |= set(cycle)
    else:
        # No cycle was reported: the links must then have a topological order.
        import networkx as nx

        graph = nx.DiGraph(list(pairs))
        assert nx.is_directed_acyclic_graph(graph)
