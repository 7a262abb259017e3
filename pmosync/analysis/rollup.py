"""Programme and portfolio roll-ups with their reasons (pure: plain values in, values out).

A programme's status is its projects' status rolled up by rules written down here (and
configurable, like the project RAG thresholds in :mod:`pmosync.analysis.rag`):

* **Red** when a *key* project is red (priority 1, or named key), when at least
  ``red_share`` of its open projects are red, or when a dependency into or out of it is
  violated by at least ``red_violation_days`` working days;
* **Amber** when any project is red or amber, when the programme slipped at least
  ``amber_slip_days`` working days against baseline, or when a dependency is violated or at
  risk;
* **Green** otherwise; **grey** when it has no open project.

The portfolio rolls up its programmes (and the projects in none) by the same rules, a
programme counting as one member. Every figure comes with a one-line "why".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

CLOSED = frozenset({"done", "cancelled"})
RAG_ORDER = {"R": 3, "A": 2, "G": 1, "grey": 0}


@dataclass(frozen=True)
class RollupRules:
    red_share: float = 1 / 3  # this share (or more) of open members red: red
    red_violation_days: float = 10.0  # a violated dependency this short (working days): red
    amber_slip_days: float = 5.0  # slip against baseline from this (working days): amber
    key_priority: int = 1  # projects with this priority (or better) are key projects


@dataclass(frozen=True)
class MemberFacts:
    """One member of a group: a project (of a programme) or a programme (of the portfolio)."""

    id: str
    label: str  # code and name, what a person recognises
    status: str | None = None
    rag: str | None = None  # computed RAG, else the entered one
    key: bool = False
    percent_complete: float | None = None
    duration_days: float | None = None  # working days, for the weighted percent complete


@dataclass(frozen=True)
class MilestoneFacts:
    project: str
    name: str | None
    due: date | None
    done: bool = False
    baseline_due: date | None = None
    forecast: date | None = None  # the schedule's forecast finish, when computed


@dataclass(frozen=True)
class LinkFacts:
    """A cross-item dependency with the projects at its ends and its finding, if any."""

    id: str
    predecessor_project: str | None
    successor_project: str | None
    finding: str | None = None  # "violation", "at_risk" or None (fine)
    shortfall_days: float | None = None
    message: str = ""


@dataclass(frozen=True)
class RaidFacts:
    project: str | None
    status: str | None = None
    probability: int | None = None
    impact: int | None = None


@dataclass(frozen=True)
class DependencyHealth:
    violated: int = 0
    at_risk: int = 0
    fine: int = 0
    inbound: int = 0  # links from outside the group into it
    outbound: int = 0  # links from the group to outside it
    worst: str = ""  # the message of the worst finding

    @property
    def text(self) -> str:
        if not (self.violated or self.at_risk or self.fine):
            return "no dependencies"
        parts = [f"{self.violated} violated", f"{self.at_risk} at risk", f"{self.fine} fine"]
        edge = f" ({self.inbound} in, {self.outbound} out)" if self.inbound or self.outbound else ""
        return ", ".join(parts) + edge


@dataclass(frozen=True)
class Rollup:
    id: str
    label: str
    rag: str
    reasons: tuple[str, ...]
    members: int
    by_rag: Mapping[str, int]
    next_milestone: str | None = None
    next_milestone_date: date | None = None
    overdue: tuple[str, ...] = ()
    slip_days: float | None = None
    slip_reason: str = ""
    dependencies: DependencyHealth = field(default_factory=DependencyHealth)
    raid: Mapping[str, int] = field(default_factory=dict)  # high / medium / low, open items
    percent_complete: float | None = None
    critical_chain: tuple[str, ...] = ()

    @property
    def status_line(self) -> str:
        """One line for a status field: RAG reasons, next milestone, slip, dependencies."""
        parts = ["; ".join(self.reasons)]
        if self.next_milestone:
            parts.append(f"next: {self.next_milestone} on {self.next_milestone_date}")
        return " · ".join(parts)

    def fields(self) -> dict[str, Any]:
        """Canonical computed values (JSON form) for a Programme or Portfolio entity."""
        raid = ", ".join(f"{n} {k}" for k, n in self.raid.items() if n) or "no open RAID"
        return {
            "rag_computed": self.rag,
            "pmo_status": self.status_line,
            "next_milestone": self.next_milestone,
            "next_milestone_date": (
                self.next_milestone_date.isoformat() if self.next_milestone_date else None
            ),
            "overdue_milestones": len(self.overdue),
            "slip_days": _json_number(self.slip_days),
            "percent_complete_computed": _json_number(self.percent_complete),
            "dependency_health": self.dependencies.text,
            "raid_summary": raid,
            "critical_chain": " → ".join(self.critical_chain) or None,
        }


def _json_number(value: float | None) -> str | None:
    # Decimals are stored as strings: a float would differ by representation and write again
    return None if value is None else f"{round(value, 1):g}"


# -- the parts -----------------------------------------------------------------------------


def working_days(a: date, b: date, holidays: frozenset[date] = frozenset()) -> float:
    """Signed Monday-Friday days from a to b (b excluded), holidays left out."""
    if a == b:
        return 0.0
    sign = 1.0 if b > a else -1.0
    lo, hi = (a, b) if b > a else (b, a)
    days = 0
    day = lo
    while day < hi:
        if day.weekday() < 5 and day not in holidays:
            days += 1
        day += timedelta(days=1)
    return sign * days


def milestone_summary(
    milestones: Iterable[MilestoneFacts], today: date
) -> tuple[str | None, date | None, tuple[str, ...]]:
    """Next open milestone (name, date) and the overdue ones, oldest first (ties by name)."""
    open_ones = [m for m in milestones if not m.done and m.due]
    upcoming = sorted((m for m in open_ones if m.due and m.due >= today), key=_by_due)
    overdue = sorted((m for m in open_ones if m.due and m.due < today), key=_by_due)
    nxt = upcoming[0] if upcoming else None
    return (
        nxt.name if nxt else None,
        nxt.due if nxt else None,
        tuple(m.name or "(unnamed)" for m in overdue),
    )


def _by_due(m: MilestoneFacts) -> tuple[date, str]:
    assert m.due is not None
    return (m.due, m.name or "")


def slip(
    milestones: Iterable[MilestoneFacts], holidays: frozenset[date] = frozenset()
) -> tuple[float | None, str]:
    """The largest slip against baseline (working days) of open milestones, and which one."""
    worst: tuple[float, str] | None = None
    for m in milestones:
        current = m.forecast or m.due
        if m.done or m.baseline_due is None or current is None:
            continue
        days = working_days(m.baseline_due, current, holidays)
        if worst is None or days > worst[0]:
            worst = (days, f"{m.name or 'a milestone'} {m.baseline_due} → {current}")
    if worst is None:
        return None, ""
    return worst[0], worst[1]


def dependency_health(links: Iterable[LinkFacts], members: frozenset[str]) -> DependencyHealth:
    """Violated / at risk / fine among links touching the group, and how many cross its edge."""
    violated = at_risk = fine = inbound = outbound = 0
    worst: tuple[float, str] | None = None
    for link in links:
        pred_in = link.predecessor_project in members
        succ_in = link.successor_project in members
        if not (pred_in or succ_in):
            continue
        inbound += int(succ_in and not pred_in)
        outbound += int(pred_in and not succ_in)
        if link.finding == "violation":
            violated += 1
            score = 1000 + (link.shortfall_days or 0)
        elif link.finding == "at_risk":
            at_risk += 1
            score = 500 - (link.shortfall_days or 0)
        else:
            fine += 1
            continue
        if worst is None or score > worst[0]:
            worst = (score, link.message)
    return DependencyHealth(violated, at_risk, fine, inbound, outbound, worst[1] if worst else "")


def raid_severity(item: RaidFacts) -> str:
    """high from a score (probability × impact, 1-5 each) of 15, medium from 8, else low."""
    score = (item.probability or 3) * (item.impact or 3)
    return "high" if score >= 15 else "medium" if score >= 8 else "low"


def raid_counts(items: Iterable[RaidFacts], members: frozenset[str]) -> dict[str, int]:
    counts = {"high": 0, "medium": 0, "low": 0}
    for item in items:
        if item.project in members and item.status not in CLOSED:
            counts[raid_severity(item)] += 1
    return counts


def weighted_percent(members: Iterable[MemberFacts]) -> float | None:
    """Percent complete weighted by duration (members without a duration weigh one day)."""
    total = weight = 0.0
    for m in members:
        if m.percent_complete is None:
            continue
        w = m.duration_days if m.duration_days and m.duration_days > 0 else 1.0
        total += m.percent_complete * w
        weight += w
    return round(total / weight, 1) if weight else None


def critical_chain(
    finishes: Mapping[str, date],
    critical: Iterable[str],
    path_to: Callable[[str], Sequence[str]],
    item_project: Mapping[str, str | None],
    members: frozenset[str],
    label: Callable[[str], str],
) -> tuple[str, ...]:
    """The critical path to the group's last-finishing critical item, labelled.

    ``path_to`` is CpmResult.critical_path_to; items outside the group stay in the chain
    (that is the point: what in another programme drives this one).
    """
    inside = [i for i in critical if item_project.get(i) in members and i in finishes]
    if not inside:
        return ()
    last = max(inside, key=lambda i: (finishes[i], i))
    return tuple(label(i) for i in path_to(last))


def group_rag(
    members: Sequence[MemberFacts],
    rules: RollupRules,
    *,
    slip_days: float | None = None,
    slip_reason: str = "",
    health: DependencyHealth | None = None,
    noun: str = "project",
) -> tuple[str, tuple[str, ...]]:
    """RAG of a group from its members' RAG and its own slip and dependencies, with reasons."""
    open_members = [m for m in members if m.status not in CLOSED]
    if not open_members:
        return "grey", (f"no open {noun}",)
    red = [m for m in open_members if m.rag == "R"]
    amber = [m for m in open_members if m.rag == "A"]
    reasons_red: list[str] = []
    reasons_amber: list[str] = []
    for m in red:
        if m.key:
            reasons_red.append(f"key {noun} {m.label} is red")
    share = len(red) / len(open_members)
    if red and share >= rules.red_share:
        reasons_red.append(f"{len(red)} of {len(open_members)} {noun}s red")
    elif red and not any(m.key for m in red):
        reasons_amber.append(f"{', '.join(m.label for m in red)} red")
    if amber:
        reasons_amber.append(f"{', '.join(m.label for m in amber)} amber")
    if health is not None and health.violated:
        # the count only: the worst finding's own message is in the dependency report
        reasons_amber.append(
            f"{health.violated} dependenc{'y' if health.violated == 1 else 'ies'} violated"
        )
    elif health is not None and health.at_risk:
        reasons_amber.append(
            f"{health.at_risk} dependenc{'y' if health.at_risk == 1 else 'ies'} at risk"
        )
    if slip_days is not None and slip_days >= rules.amber_slip_days:
        reasons_amber.append(f"slipped {slip_days:g} working days ({slip_reason})")
    if reasons_red:
        return "R", tuple(reasons_red + reasons_amber)
    if reasons_amber:
        return "A", tuple(reasons_amber)
    return "G", (f"{len(open_members)} {noun}{'s' if len(open_members) != 1 else ''} green",)


def _with_violation_rule(
    rag: str,
    reasons: tuple[str, ...],
    links: Iterable[LinkFacts],
    members: frozenset[str],
    rules: RollupRules,
) -> tuple[str, tuple[str, ...]]:
    bad = [
        lk
        for lk in links
        if lk.finding == "violation"
        and (lk.shortfall_days or 0) >= rules.red_violation_days
        and (lk.predecessor_project in members or lk.successor_project in members)
    ]
    if bad and rag != "R" and rag != "grey":
        worst = max(bad, key=lambda lk: lk.shortfall_days or 0)
        which = worst.message.split(":", 1)[0].strip() or "a dependency"
        return "R", (f"{which} is {worst.shortfall_days:g} working days short", *reasons)
    return rag, reasons


def rollup_group(
    group_id: str,
    label: str,
    members: Sequence[MemberFacts],
    *,
    projects: frozenset[str],
    milestones: Iterable[MilestoneFacts],
    links: Iterable[LinkFacts],
    raid: Iterable[RaidFacts],
    today: date,
    rules: RollupRules | None = None,
    chain: tuple[str, ...] = (),
    holidays: frozenset[date] = frozenset(),
    noun: str = "project",
) -> Rollup:
    """Roll one group up. ``members`` are what its RAG is made of (projects of a programme,
    programmes of the portfolio); ``projects`` every project id under it (milestones, links
    and RAID items are counted by project)."""
    rules = rules or RollupRules()
    links = list(links)
    own = [m for m in milestones if m.project in projects]
    next_name, next_date, overdue = milestone_summary(own, today)
    slip_days, slip_reason = slip(own, holidays)
    health = dependency_health(links, projects)
    rag, reasons = group_rag(
        members, rules, slip_days=slip_days, slip_reason=slip_reason, health=health, noun=noun
    )
    rag, reasons = _with_violation_rule(rag, reasons, links, projects, rules)
    by_rag: dict[str, int] = {}
    for m in members:
        if m.status not in CLOSED:
            by_rag[m.rag or "grey"] = by_rag.get(m.rag or "grey", 0) + 1
    return Rollup(
        id=group_id,
        label=label,
        rag=rag,
        reasons=reasons,
        members=len(members),
        by_rag=by_rag,
        next_milestone=next_name,
        next_milestone_date=next_date,
        overdue=overdue,
        slip_days=slip_days,
        slip_reason=slip_reason,
        dependencies=health,
        raid=raid_counts(raid, projects),
        percent_complete=weighted_percent(members),
        critical_chain=chain,
    )


def as_member(
    rollup: Rollup, *, key: bool = False, duration_days: float | None = None
) -> MemberFacts:
    """A programme's roll-up as one member of the portfolio."""
    return MemberFacts(
        id=rollup.id,
        label=rollup.label,
        status=None if rollup.rag != "grey" else "done",
        rag=rollup.rag,
        key=key,
        percent_complete=rollup.percent_complete,
        duration_days=duration_days,
    )
