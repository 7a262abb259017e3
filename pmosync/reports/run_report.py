"""Plain-text rendering of a run report (the JSON form is RunReport.to_dict)."""

from __future__ import annotations

from pmosync.sync.report import RunReport


def render_text(report: RunReport) -> str:
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
        if conn.error:
            lines.append(f"    error ({conn.error_kind}): {conn.error}")
    if report.entities:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(report.entities.items()))
        lines.append(f"  store: {counts}")
    if report.conflicts:
        lines.append(f"  conflicts: {len(report.conflicts)}")
        for c in report.conflicts[:20]:
            who = c.get("label") or c["canonical_id"]
            lines.append(f"    {c['entity_type']} {who!s}, {c['field']}: {c['reason']}")
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
    for notice in report.notices:
        lines.append(f"  note: {notice}")
    if report.dry_run:
        lines.append(f"  plan: {len(report.plan)} write(s)")
        for w in report.plan[:200]:
            fields = ", ".join(f"{c['field']}: {c['old']!r} -> {c['new']!r}" for c in w["changes"])
            lines.append(f"    {w['connection']} {w['external_id']}: {fields}")
    if report.write_errors:
        lines.append(f"  write errors: {len(report.write_errors)}")
        for e in report.write_errors[:20]:
            lines.append(f"    {e['connection']} {e['external_id']}: {e['error']}")
    return "\n".join(lines)
