"""Checks on the dependency graph and on dates as entered (pure): §B.3 and §B.5 of the schedule
notes.

Jira and Airtable have no scheduler, so their dates are whatever a person typed; these checks
say where those dates break the logic between items (a violation, with the shortfall in working
days on the successor's calendar), where they only just hold (at risk), and where the graph
itself is broken (cycles, links to an item's own ancestor, dangling and open ends, leads, long
lags). Every message names items by key/name and project, never by a bare id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import networkx as nx

from pmosync.analysis.calendar import WorkCalendar
from pmosync.analysis.graph import (
    Hub,
    ItemNode,
    LinkEdge,
    PortfolioGraph,
    calendar_for,
    lag_minutes_of,
    link_need,
)

if TYPE_CHECKING:
    from pmosync.analysis.cpm import CpmResult

__all__ = ["Finding", "FindingKind", "Severity", "check_dependencies"]

Severity = Literal["high", "medium", "low"]
FindingKind = Literal[
    "violation", "at_risk", "cycle", "ancestor_link", "dangling", "open_end", "lead", "long_lag"
]
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_KIND_ORDER = {
    k: i
    for i, k in enumerate(
        (
            "cycle",
            "violation",
            "at_risk",
            "ancestor_link",
            "dangling",
            "lead",
            "long_lag",
            "open_end",
        )
    )
}
_TYPE_WORDS = {
    "FS": ("start", "finishes"),
    "SS": ("start", "starts"),
    "FF": ("finish", "finishes"),
    "SF": ("finish", "starts"),
}


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    severity: Severity
    link: str | None  # the dependency's canonical id
    items: tuple[str, ...]  # canonical ids (predecessor first for a link)
    shortfall_days: float | None  # working days the successor is short (violation, at risk)
    witness: tuple[str, ...]  # a cycle, in order (the first item again closes it)
    message: str  # names items by key/name and project, never by UUID
    # addition: working days of margin left on an at-risk link (entered dates)
    margin_days: float | None = None


def _link_finding(kind: FindingKind, severity: Severity, e: LinkEdge, message: str) -> Finding:
    """A finding about one link as a whole (no shortfall, no witness path)."""
    return Finding(
        kind=kind,
        severity=severity,
        link=e.id,
        items=(e.predecessor, e.successor),
        shortfall_days=None,
        witness=(),
        message=message,
    )


def check_dependencies(
    graph: PortfolioGraph,
    *,
    calendar: WorkCalendar,
    status_date: datetime,
    at_risk_days: float = 5.0,
    forecast: CpmResult | None = None,
    long_lag_days: float = 20.0,
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> list[Finding]:
    """Every finding on the graph, most severe first.

    ``forecast`` (a CPM run on the same graph, see ``to_cpm``) adds at-risk links where a
    predecessor's forecast breaks the successor's entered date although the entered dates hold.
    ``calendars`` (by canonical calendar id) overrides ``calendar`` for items that name one.
    ``status_date`` is when "now" is: an unfinished predecessor whose entered finish has passed
    is taken to finish no earlier than then.
    """
    findings: list[Finding] = []
    findings += _cycles(graph)
    findings += _link_dates(graph, calendar, calendars, status_date, at_risk_days, forecast)
    findings += _structure(graph, calendar, calendars, long_lag_days)
    findings += _open_ends(graph)
    findings.sort(
        key=lambda f: (_SEVERITY_ORDER[f.severity], _KIND_ORDER[f.kind], f.message, f.link or "")
    )
    return findings


# -- cycles ------------------------------------------------------------------------------------


def _cycles(graph: PortfolioGraph) -> list[Finding]:
    links: dict[tuple[str, str], str] = {}
    for p, s, e in graph.leaf_links():
        links.setdefault((p, s), e.id)
    for hub in graph.hubs():
        for p in hub.preds:
            links.setdefault((p, hub.id), hub.link.id)
    succ = graph.successors()
    out: list[Finding] = []
    for comp in graph.components():
        if len(comp) == 1:
            (only,) = comp
            if (only, only) not in links:
                continue
            witness = [only]
            step = only
        else:
            # one witness per component: find_cycle walks the component's edges once
            sub = nx.DiGraph((u, v) for u in comp for v, _e in succ.get(u, ()) if v in comp)
            loop = [u for u, _v in nx.find_cycle(sub)]
            # p -> hub -> s is the link p -> s: name items only, from an item
            first = next(k for k, u in enumerate(loop) if graph.hub(u) is None)
            loop = loop[first:] + loop[:first]
            step = loop[1]  # the next node: an item, or the hub its link goes through
            witness = [u for u in loop if graph.hub(u) is None]
        items = sorted(i for i in comp if graph.hub(i) is None)
        closed = (*witness, witness[0])
        path = " → ".join(graph.describe(i) for i in closed)
        caught = len(items) > len(witness)
        extra = f" ({len(items)} items are caught in this loop)" if caught else ""
        out.append(
            Finding(
                kind="cycle",
                severity="high",
                link=links.get((witness[0], step)),
                items=tuple(items),
                shortfall_days=None,
                witness=closed,
                message=f"Dependency loop: {path}{extra}. Remove or reverse one of these links.",
            )
        )
    return out


# -- dates as entered --------------------------------------------------------------------------


def _days(minutes: float, cal: WorkCalendar) -> float:
    return round(minutes / cal.minutes_per_day, 2)


def _fmt(t: datetime) -> str:
    if t.hour == 0 and t.minute == 0:
        return t.date().isoformat()
    return t.isoformat(sep=" ", timespec="minutes")


def _current(node: ItemNode, status_date: datetime) -> tuple[datetime | None, datetime | None]:
    """A predecessor's dates for the checks: an unfinished item whose finish has passed will
    finish no earlier than the status date."""
    start, finish = node.start, node.finish
    if not node.done and finish is not None and finish < status_date:
        finish = status_date
    return start, finish


def _shortfall(
    need: tuple[str, datetime], succ: ItemNode, cal: WorkCalendar
) -> tuple[float, datetime] | None:
    """Working minutes the successor is short of the link's need, and the date it is compared
    with; None when the successor has no date to compare."""
    side, at = need
    own = succ.start if side == "start" else succ.finish
    if own is None:
        # an item with only a due date: it cannot start later than it finishes, so comparing
        # with the due date is a sound lower bound of the shortfall
        own = succ.finish if side == "start" else None
    if own is None:
        return None
    return cal.work_between(own, at), own


@dataclass(frozen=True)
class _DateCheck:
    """What every link's date check needs besides the link."""

    graph: PortfolioGraph
    default: WorkCalendar
    calendars: Mapping[str, WorkCalendar] | None
    status_date: datetime
    at_risk_days: float
    forecast: CpmResult | None

    def cal(self, item_id: str) -> WorkCalendar:
        return calendar_for(self.graph, item_id, self.default, self.calendars)


def _link_dates(
    graph: PortfolioGraph,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
    status_date: datetime,
    at_risk_days: float,
    forecast: CpmResult | None,
) -> list[Finding]:
    ctx = _DateCheck(graph, default, calendars, status_date, at_risk_days, forecast)
    out: list[Finding] = []
    for p_id, s_id, e in graph.leaf_links():
        found = _pair(ctx, p_id, s_id, e, ctx.cal(s_id))
        if found is not None:
            out.append(found)
    for hub in graph.hubs():
        out += _hub_dates(ctx, hub)
    return out


def _hub_dates(ctx: _DateCheck, hub: Hub) -> list[Finding]:
    """A summary link through a hub: each successor leaf is checked against the predecessor
    leaves that ask the most of it (the latest need on the entered dates, the latest among the
    open ones, the latest forecast), not against each of them: one finding per successor leaf
    at most, naming the predecessor that breaks it worst, so an epic late for an epic of 600
    stories gives 600 findings rather than 360,000. Needs depend on the successor's calendar
    only, so they are worked out once per calendar."""
    graph, e = ctx.graph, hub.link
    by_cal: dict[int, tuple[WorkCalendar, list[str]]] = {}
    for s_id in hub.succs:
        cal = ctx.cal(s_id)
        by_cal.setdefault(id(cal), (cal, []))[1].append(s_id)
    out: list[Finding] = []
    for cal, group in by_cal.values():
        candidates = _asking_most(ctx, hub, cal)
        for s_id in group:
            found = [f for p_id in candidates if (f := _pair(ctx, p_id, s_id, e, cal))]
            if found:
                worst = min(found, key=_rank)
                note = (
                    f" (link {graph.label(e.predecessor)} → {graph.label(e.successor)}: "
                    f"checked against whichever of its {len(hub.preds)} items asks the most)"
                )
                out.append(dataclasses.replace(worst, message=worst.message + note))
    return out


def _asking_most(ctx: _DateCheck, hub: Hub, cal: WorkCalendar) -> list[str]:
    """The hub's predecessor leaves with the latest need on ``cal`` (entered dates), the latest
    among the open ones, and the latest forecast need: any finding a successor has on the
    link, one of these gives it, the worst one (shortfalls grow with the need)."""
    e = hub.link
    latest: dict[str, tuple[datetime, str]] = {}
    for p_id in hub.preds:
        p = ctx.graph.nodes[p_id]
        if p.status == "cancelled" or (p.done and p.actual_finish is None):
            continue  # as in _pair: these constrain nothing
        p_start, p_finish = _current(p, ctx.status_date)
        need = link_need(e, p, p_start, p_finish, cal)
        fc = None if p.done else _forecast_need(e, p, p_id, ctx.forecast, cal)
        for slot, at in (
            ("entered", need),
            ("open", None if p.done else need),
            ("forecast", fc),
        ):
            if at is not None and (slot not in latest or at[1] > latest[slot][0]):
                latest[slot] = (at[1], p_id)
    return list(dict.fromkeys(p_id for _at, p_id in latest.values()))


def _rank(f: Finding) -> tuple[int, int, float]:
    return (_SEVERITY_ORDER[f.severity], _KIND_ORDER[f.kind], -(f.shortfall_days or 0.0))


def _pair(ctx: _DateCheck, p_id: str, s_id: str, e: LinkEdge, cal: WorkCalendar) -> Finding | None:
    """The finding on the leaf link p -> s from the dates as entered (and the forecast), if
    any: a violation, a forecast breaking it, or a thin margin between two plans."""
    graph, status_date, at_risk_days, forecast = (
        ctx.graph,
        ctx.status_date,
        ctx.at_risk_days,
        ctx.forecast,
    )
    nodes = graph.nodes
    p, s = nodes[p_id], nodes[s_id]
    if p.status == "cancelled":
        return None  # a cancelled item constrains nothing
    if p.done and p.actual_finish is None:
        return None  # done without a recorded finish: the link was met when it closed
    p_start, p_finish = _current(p, status_date)
    need = link_need(e, p, p_start, p_finish, cal)
    if need is None:
        return None
    short = _shortfall(need, s, cal)
    if short is None:
        return None
    minutes, own = short
    _side, at = need
    word, verb = _TYPE_WORDS[e.type]
    base = p_finish if e.type in ("FS", "FF") else p_start
    assert base is not None  # link_need had it
    if minutes > 0.5:
        where = _where(graph, p_id, s_id, e, cal)
        if p.done:
            # the predecessor finished after the successor's date: history, unless the
            # successor is still to come
            severity: Severity = "low" if s.done else "medium"
        elif s.started or s.key_milestone:
            severity = "high"
        else:
            severity = "medium"
        if s.key_milestone and not s.done:
            severity = "high"
        short_days = _days(minutes, cal)
        return Finding(
            kind="violation",
            severity=severity,
            link=e.id,
            items=(p_id, s_id),
            shortfall_days=short_days,
            witness=(),
            message=(
                f"{where}: {graph.label(s_id)} is due to {word} {_fmt(own)}, but "
                f"{graph.label(p_id)} {verb} {_fmt(base)} so it cannot {word} before "
                f"{_fmt(at)}; {short_days:g} working day(s) short"
            ),
        )
    if p.done or s.done:
        return None  # a link already met in the past cannot become at risk
    margin = -minutes
    fc = _forecast_need(e, p, p_id, forecast, cal)
    if fc is not None:
        fc_short = _shortfall(fc, s, cal)
        if fc_short is not None and fc_short[0] > 0.5:
            where = _where(graph, p_id, s_id, e, cal)
            fc_days = _days(fc_short[0], cal)
            return Finding(
                kind="at_risk",
                severity="high" if s.key_milestone or s.started else "medium",
                link=e.id,
                items=(p_id, s_id),
                shortfall_days=fc_days,
                witness=(),
                margin_days=_days(margin, cal),
                message=(
                    f"{where}: the dates as entered hold, but {graph.label(p_id)} is "
                    f"forecast to {'finish' if e.type in ('FS', 'FF') else 'start'} "
                    f"{_fmt(_forecast_base(e, p_id, forecast) or fc[1])}, "
                    f"{fc_days:g} working day(s) after {graph.label(s_id)} can "
                    f"{word} ({_fmt(fc_short[1])})"
                ),
            )
        margin = min(margin, -fc_short[0]) if fc_short is not None else margin
    # A thin margin is worth a finding where two plans meet: each team schedules only its
    # own side, so nobody sees the gap shrink. Inside one plan back-to-back items are the
    # normal case (and MS Project keeps its own logic), so flagging them would be noise.
    if e.cross_project and margin < at_risk_days * cal.minutes_per_day:
        where = _where(graph, p_id, s_id, e, cal)
        margin_days = _days(margin, cal)
        return Finding(
            kind="at_risk",
            severity="low",
            link=e.id,
            items=(p_id, s_id),
            shortfall_days=None,
            witness=(),
            margin_days=margin_days,
            message=(
                f"{where}: only {margin_days:g} working day(s) between "
                f"{graph.label(p_id)} and {graph.label(s_id)} (threshold "
                f"{at_risk_days:g}); a small slip of the first breaks the second"
            ),
        )
    return None


def _where(graph: PortfolioGraph, p_id: str, s_id: str, e: LinkEdge, cal: WorkCalendar) -> str:
    return f"{graph.describe(p_id)} → {graph.describe(s_id)} ({e.type}{_lag_text(e, cal)})"


def _forecast_base(e: LinkEdge, p_id: str, forecast: CpmResult | None) -> datetime | None:
    if forecast is None or p_id not in forecast.tasks:
        return None
    t = forecast.tasks[p_id]
    return t.early_finish if e.type in ("FS", "FF") else t.early_start


def _forecast_need(
    e: LinkEdge,
    p: ItemNode,
    p_id: str,
    forecast: CpmResult | None,
    cal: WorkCalendar,
) -> tuple[str, datetime] | None:
    if forecast is None:
        return None
    t = forecast.tasks.get(p_id)
    if t is None:
        return None
    return link_need(e, p, t.early_start, t.early_finish, cal)


def _lag_text(e: LinkEdge, cal: WorkCalendar) -> str:
    if e.lag_percent is not None:
        return f"{e.lag_percent:+g}%"
    if e.lag_minutes == 0:
        return ""
    days = e.lag_minutes / cal.minutes_per_day
    return f"{days:+g}{'ed' if e.lag_elapsed else 'd'}"


# -- structure ---------------------------------------------------------------------------------


def _structure(
    graph: PortfolioGraph,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
    long_lag_days: float,
) -> list[Finding]:
    out: list[Finding] = []
    for e in graph.dangling:
        known = [i for i in (e.predecessor, e.successor) if i in graph.nodes]
        missing = [i for i in (e.predecessor, e.successor) if i not in graph.nodes]
        gone = ", ".join(
            "a deleted item" if i in graph.tombstoned else "an item pmo-sync does not know"
            for i in missing
        )
        origin = f" (from {e.origin})" if e.origin else ""
        if known:
            text = (
                f"Link{origin} between {graph.describe(known[0])} and {gone}: remove it in its "
                "tool, or sync the project that holds the other end"
            )
        else:
            text = f"Link{origin} between two items pmo-sync does not know: remove it"
        out.append(
            Finding(
                kind="dangling",
                severity="medium",
                link=e.id,
                items=tuple(known),
                shortfall_days=None,
                witness=(),
                message=text,
            )
        )
    for e in graph.edges:
        if graph.is_ancestor_link(e):
            up, down = (
                (e.predecessor, e.successor)
                if e.predecessor in graph.ancestors(e.successor)
                else (e.successor, e.predecessor)
            )
            out.append(
                _link_finding(
                    "ancestor_link",
                    "medium",
                    e,
                    (
                        f"{graph.describe(e.predecessor)} → {graph.describe(e.successor)}: "
                        f"{graph.label(down)} sits inside {graph.label(up)}, so the link would "
                        "loop once the summary is expanded; it is left out of the schedule. "
                        "Link the items beside it instead."
                    ),
                )
            )
        if e.dependency_class != "logic":
            continue
        cal = calendar_for(graph, e.successor, default, calendars)
        lag = lag_minutes_of(e, graph.nodes[e.predecessor])
        where = f"{graph.describe(e.predecessor)} → {graph.describe(e.successor)}"
        if lag < 0:
            out.append(
                _link_finding(
                    "lead",
                    "low",
                    e,
                    (
                        f"{where} has a lead of {_days(-lag, cal):g} working day(s): the "
                        "successor may start before its predecessor allows; DCMA asks for none"
                    ),
                )
            )
        elif lag > long_lag_days * cal.minutes_per_day:
            out.append(
                _link_finding(
                    "long_lag",
                    "low",
                    e,
                    (
                        f"{where} has a lag of {_days(lag, cal):g} working days (over "
                        f"{long_lag_days:g}): a wait that long is usually work worth its own item"
                    ),
                )
            )
    return out


def _open_ends(graph: PortfolioGraph) -> list[Finding]:
    """DCMA "missing logic": an open, non-milestone leaf with no predecessor or no successor.

    Only projects that use logic at all are checked (a Jira backlog with no links is not a
    schedule network, and flagging each of its issues would bury the real findings).
    """
    has_pred: set[str] = set()
    has_succ: set[str] = set()
    for p, s, _e in graph.leaf_links():
        has_succ.add(p)
        has_pred.add(s)
    for hub in graph.hubs():
        has_succ.update(hub.preds)
        has_pred.update(hub.succs)
    linked_projects = {graph.nodes[i].project for i in has_pred | has_succ}
    out: list[Finding] = []
    for i in graph.leaves():
        n = graph.nodes[i]
        if n.milestone or n.done or n.external or n.project not in linked_projects:
            continue
        no_pred, no_succ = i not in has_pred, i not in has_succ
        if not (no_pred or no_succ):
            continue
        if no_pred and no_succ:
            why = "no predecessor and no successor: it floats free of the plan's logic"
        elif no_pred:
            why = "no predecessor: nothing in the plan drives its start"
        else:
            why = "no successor: a slip there shows up nowhere else in the plan"
        out.append(
            Finding(
                kind="open_end",
                severity="low",
                link=None,
                items=(i,),
                shortfall_days=None,
                witness=(),
                message=f"{graph.describe(i)} has {why}; link it into the plan",
            )
        )
    return out
