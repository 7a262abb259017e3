"""Tell people when a run needs them: failed or partial runs, conflicts newly held.

Fired by the `sync` command after the run report is stored. A notification that cannot be
sent is logged and said on stderr; it never changes the run's outcome or exit code (the run
report in the store is the record; the notification is a courtesy).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from pmosync.config.loader import LoadedConfig
from pmosync.config.notify import EmailTarget, NotifyConfig, WebhookTarget
from pmosync.errors import PmoSyncError
from pmosync.humanize import value_text
from pmosync.redact import redact
from pmosync.sync.report import RunReport

log = logging.getLogger("pmosync.notify")


@dataclass
class Notice:
    """What one notification says."""

    subject: str
    lines: list[str]
    events: list[str]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def events_for(report: RunReport, new_held: list[dict[str, Any]], wanted: list[str]) -> list[str]:
    events = []
    if report.status in ("failed", "partial") and report.status in wanted:
        events.append(report.status)
    if new_held and "held" in wanted:
        events.append("held")
    return events


def build_notice(
    portfolio: str, report: RunReport, new_held: list[dict[str, Any]], events: list[str]
) -> Notice:
    """The summary people read first: what happened, to what, and the command to run next."""
    run = f"run {report.run_id}" if report.run_id is not None else "a run"
    what = []
    if report.status != "ok":
        what.append(report.status)
    if new_held:
        what.append(f"{len(new_held)} conflict(s) held")
    subject = f"pmo-sync {portfolio}: {run} {', '.join(what) or report.status}"
    lines = [
        f"{run}: {report.status}, {report.writes_applied} write(s) applied, "
        f"started {report.started_at[:19].replace('T', ' ')} UTC",
    ]
    for conn in report.connections.values():
        state = conn.status
        if conn.writes_failed:
            state += f", {conn.writes_failed} write(s) failed"
        lines.append(f"  {conn.name} ({conn.kind}): {state}")
        if conn.error:
            lines.append(f"    {conn.error}")
    if any(c.writes_failed for c in report.connections.values()):
        lines.append("  next: `pmo-sync outbox list` (then `outbox retry` or `outbox drop`)")
    if report.status == "failed" or any(c.status == "failed" for c in report.connections.values()):
        lines.append("  next: `pmo-sync doctor` says what is wrong with each connection")
    if new_held:
        lines.append(f"conflicts waiting for a person ({len(new_held)} new):")
        for c in new_held:
            seen = "; ".join(
                f"{k} {value_text(v, c['field'])}" for k, v in c.get("observed", {}).items()
            )
            who = c.get("label") or c.get("canonical_id")
            lines.append(f"  {c['entity_type']} {who}, {c['field']}: {seen}")
        lines.append("  next: `pmo-sync conflicts list`, then `pmo-sync conflicts resolve ID`")
    lines.append(f"details: `pmo-sync runs show {report.run_id}`")
    return Notice(subject, [redact(line) for line in lines], events, report.to_dict())


def newly_held(loaded: LoadedConfig, report: RunReport) -> list[dict[str, Any]]:
    """Held conflicts of this run that were not already waiting before it started."""
    held = [c for c in report.conflicts if c.get("held")]
    if not held or report.run_id is None:
        return []
    from sqlalchemy import select

    from pmosync.sync import models
    from pmosync.sync.conflicts import labels
    from pmosync.sync.store import Store, aware

    started = datetime.fromisoformat(report.started_at)
    store = Store.open(loaded.store_url(), migrate=False)
    try:
        with store.sessions() as session:
            rows = session.scalars(
                select(models.Conflict).where(models.Conflict.status == "open")
            ).all()
            older = {
                (r.canonical_id, r.field)
                for r in rows
                if (aware(r.detected_at) or started) < started
            }
        fresh = [c for c in held if (c["canonical_id"], c["field"]) not in older]
        names = labels(store, [c["canonical_id"] for c in fresh])
    finally:
        store.close()
    return [{**c, "label": names[c["canonical_id"]]} for c in fresh]


def send_webhook(target: WebhookTarget, notice: Notice) -> None:
    import requests

    url = target.url.resolve("notify webhook url")
    body: dict[str, Any]
    if target.format == "slack":
        body = {"text": f"*{notice.subject}*\n```{notice.text}```"}
    elif target.format == "teams":
        # Office 365 connector card, what Teams incoming webhooks accept
        body = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": notice.subject,
            "themeColor": "D13438" if "failed" in notice.events else "FFB900",
            "title": notice.subject,
            "text": "<pre>" + notice.text + "</pre>",
        }
    else:
        body = {
            "subject": notice.subject,
            "events": notice.events,
            "text": notice.text,
            "report": notice.report,
        }
    verify: str | bool = str(target.ca_bundle) if target.ca_bundle else True
    try:
        response = requests.post(url, json=body, timeout=target.timeout_seconds, verify=verify)
    except requests.RequestException as exc:
        # the exception text carries the URL's path and query, where the webhook's token is
        raise PmoSyncError(
            f"notify webhook: {type(exc).__name__} reaching {urlsplit(url).netloc} (URL from "
            f"{target.url.describe()})"
        ) from None
    if response.status_code >= 400:
        raise PmoSyncError(
            f"notify webhook at {urlsplit(url).netloc} answered {response.status_code}: "
            f"{response.text[:200]}"
        )


def send_email(target: EmailTarget, notice: Notice) -> None:
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message.set_content(notice.text + "\n")
    context = ssl.create_default_context(cafile=str(target.ca_bundle) if target.ca_bundle else None)
    smtp_class = smtplib.SMTP_SSL if target.security == "ssl" else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": target.timeout_seconds}
    if target.security == "ssl":
        kwargs["context"] = context
    try:
        with smtp_class(target.host, target.port, **kwargs) as smtp:
            if target.security == "starttls":
                smtp.starttls(context=context)
            if target.username and target.password is not None:
                smtp.login(target.username, target.password.resolve("notify email password"))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise PmoSyncError(
            f"notify e-mail via {target.host}:{target.port}: {type(exc).__name__}: {exc}"
        ) from None


def notify(config: NotifyConfig, notice: Notice) -> list[str]:
    """Send to every target; returns the errors (each target is tried)."""
    errors = []
    for webhook in config.webhooks:
        try:
            send_webhook(webhook, notice)
        except PmoSyncError as exc:
            errors.append(redact(str(exc)))
    if config.email is not None:
        try:
            send_email(config.email, notice)
        except PmoSyncError as exc:
            errors.append(redact(str(exc)))
    return errors


def notify_run(loaded: LoadedConfig, report: RunReport) -> list[str]:
    """Notify when the run failed, was partial, or held new conflicts; returns send errors."""
    config = loaded.config.notify
    if not config.webhooks and config.email is None:
        return []
    new_held = newly_held(loaded, report)
    events = events_for(report, new_held, list(config.on))
    if not events:
        return []
    notice = build_notice(loaded.config.portfolio.name, report, new_held, events)
    log.info("notifying (%s): %s", ", ".join(events), notice.subject)
    errors = notify(config, notice)
    for error in errors:
        log.error("%s", error)
    return errors
