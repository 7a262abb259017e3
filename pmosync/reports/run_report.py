"""Plain-text rendering of a run report (the JSON form is RunReport.to_dict)."""

from __future__ import annotations

from typing import Any

from pmosync.humanize import value_text
from pmosync.sync.report import RunReport


def _who(entry: dict[str, Any]) -> str:
    """The record as people name it; the remote id only when no name was recorded."""
    return str(entry.get("label") or entry.get("external_id") or entry.get("canonical_id"))


def _change(c: dict[str, Any]) -> str:
    return f"{c['field']}: {value_text(c['old'], c['field'])} → {value_text(c['new'], c['field'])}"


def render_text(report: RunReport, *, verbose: bool = False) -> str:
    """The run for a person; ``verbose`` (sync -v, runs show) lists every write."""
    lines = [
        f"run {report.run_id if report.run_id is not None else '(dry run)'}: {report.status}"
        f" in {report.duration_seconds:.2f}s, {report.api_calls} API calls,"
        f" {report.writes_applied} writes applied"
    ]
    for conn in report.connections.values():
        line = (
            f"  {conn.name} ({conn.kind}): {conn.status}; pulled {conn.pulled} "
            f"({conn.new} new, {conn.changed} changed), quarantined {conn.quarantined}, "
            f"writes {conn.writes_applied}/{conn.writes_planned}"
            f" (failed {conn.writes_failed}), API calls {conn.api_calls}"
        )
        lines.append(line)
        if conn.waited:
            why = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(conn.waited.items()))
            lines.append(f"    waited {sum(conn.waited.values()):.1f}s: {why}")
        if conn.error:
            lines.append(f"    error ({conn.error_kind}): {conn.error}")
    if report.entities:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(report.entities.items()))
        lines.append(f"  store: {counts}")
    if report.conflicts:
        lines.append(f"  conflicts: {len(report.conflicts)}")
        for c in report.conflicts[:20]:
            who = c.get("label") or c["canonical_id"]
            held = " (held for a person)" if c.get("held") else ""
            seen = ", ".join(
                f"{conn} {value_text(v, c['field'])}" for conn, v in c.get("observed", {}).items()
            )
            # the values are listed just before, for people; the reason's own list is for logs
            reason = str(c["reason"])
            if reason.startswith("conflict (") and "); " in reason:
                reason = reason.split("); ", 1)[1]
            lines.append(f"    {c['entity_type']} {who!s}, {c['field']}{held}: {seen}; {reason}")
    if report.quarantined:
        lines.append(f"  quarantined records: {len(report.quarantined)}")
        for q in report.quarantined[:20]:
            lines.append(f"    {q['connection']} {q['external_id']}: {q['reason']}")
    for key, verb in (("tombstoned", "tombstoned"), ("revived", "back again")):
        items = getattr(report, key)
        if items:
            noun = "record" if len(items) == 1 else "records"
            lines.append(f"  {len(items)} {noun} {verb}:")
            for t in items[:20]:
                gone = " (no tool holds it: it stops counting)" if t["entity_tombstoned"] else ""
                lines.append(f"    {t['connection']} {t['entity_type']} {t['label']}{gone}")
    if report.quiet_since is not None:
        lines.append(
            f"  nothing changed since run #{report.quiet_since}: the analysis of run "
            f"#{report.analysis_run} stands (reconcile, analysis and planning skipped)"
        )
    for notice in report.notices:
        lines.append(f"  note: {notice}")
    lines.extend(_schedule_lines(report))
    if report.dry_run or verbose:
        heading = "plan" if report.dry_run else "writes"
        lines.append(f"  {heading}: {len(report.plan)} write(s)")
        for w in report.plan[:200]:
            fields = ", ".join(_change(c) for c in w["changes"])
            op = "" if w.get("op") in (None, "update") else f"{w['op']} "
            lines.append(f"    {w['connection']} {op}{_who(w)}: {fields}")
        if len(report.plan) > 200:
            lines.append(f"    ... {len(report.plan) - 200} more (--json lists them all)")
    labels = {(w["connection"], w.get("external_id")): w.get("label") for w in report.plan}
    if report.write_errors:
        lines.append(f"  write errors: {len(report.write_errors)}")
        for e in report.write_errors[:20]:
            label = labels.get((e["connection"], e.get("external_id")))
            lines.append(f"    {e['connection']} {_who({**e, 'label': label})}: {e['error']}")
    return "\n".join(lines)


# Findings a PMO acts on first; open ends (items with no link) are counted, not listed.
_LISTED_KINDS = ("cycle", "violation", "at_risk", "ancestor_link", "dangling", "lead", "long_lag")
_SEVERITY = {"high": 0, "medium": 1, "low": 2}


def _schedule_lines(report: RunReport) -> list[str]:
    """The analyse stage: schedule, cross-tool links and dependency findings."""
    s = report.schedule
    lines: list[str] = []
    if s:
        lines.append(
            f"  schedule: {s['items']} items, {s['links']} links ({s['cross_project_links']} "
            f"across projects, {s['cross_tool_links']} across tools), {s['critical']} critical, "
            f"{s['computed_changes']} computed field change(s); calendar {s['calendar']}"
        )
        if s.get("error"):
            lines.append(f"    {s['error']}")
        for link in s.get("cross_tool", [])[:20]:
            lines.append(
                f"    cross-tool: {link['predecessor']} ({', '.join(link['from'])}) -> "
                f"{link['successor']} ({', '.join(link['to'])}), {link['type']} {link['class']}"
            )
        counts = ", ".join(f"{k} {v}" for k, v in s.get("findings_by_kind", {}).items())
        if counts:
            lines.append(f"  dependency findings: {counts}")
        listed = sorted(
            (f for f in s.get("findings", []) if f["kind"] in _LISTED_KINDS),
            key=lambda f: (_SEVERITY.get(f["severity"], 3), _LISTED_KINDS.index(f["kind"])),
        )
        for f in listed[:20]:
            lines.append(f"    [{f['severity']}] {f['kind']}: {f['message']}")
        # the report holds the worst findings only; the store holds them all
        total = sum(n for k, n in s.get("findings_by_kind", {}).items() if k in _LISTED_KINDS)
        if max(total, len(listed)) > 20:
            lines.append(
                f"    ... {max(total, len(listed)) - min(20, len(listed))} more "
                "(`pmo-sync report dependencies` lists them all)"
            )
    if report.unresolved_names:
        lines.append(f"  cross-tool names not found: {len(report.unresolved_names)}")
        for u in report.unresolved_names[:20]:
            where = f"{u['connection']} {u['external_id']} {u['field']}"
            lines.append(f"    {where} {u['name']!r}: {u['reason']}")
    return lines
