"""Sending alerts through the seller's Apprise URLs: once per alert, retried, never blocking."""

from __future__ import annotations

import logging

import apprise

from daemon.config import Settings
from daemon.monitor.alerts import alert_text, alert_view
from daemon.provenance.ledger import Ledger
from daemon.store import Store
from daemon.timeutil import backoff_seconds, in_seconds

log = logging.getLogger(__name__)
MAX_NOTIFY_ATTEMPTS = 8


def send(urls: list[str], title: str, body: str) -> str | None:
    """Send one message to every URL; None on success, else the failure in plain words."""
    if not urls:
        return "no notification URLs are configured (`picguard config add-notify URL`)"
    sender = apprise.Apprise()
    bad = [u for u in urls if not sender.add(u)]
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = sender.notify(title=title, body=body) if len(sender) else False
        detail = captured.getvalue().strip().splitlines()
    problems = []
    if bad:
        problems.append(f"not understood by Apprise: {', '.join(bad)}")
    if not ok:
        problems.append("delivery failed" + (f" ({detail[-1]})" if detail else ""))
    return "; ".join(problems) or None


def notify_pending(store: Store, settings: Settings, limit: int = 50) -> dict:
    """Deliver due alert notifications; failures back off and give up after a few tries."""
    sent = failed = 0
    for row in store.alerts_to_notify(limit):
        title, body = alert_text(alert_view(row))
        error = send(settings.notify_urls, title, body)
        if error is None:
            store.alert_notified(row["id"])
            sent += 1
            continue
        failed += 1
        attempts = store.notify_attempts(row["id"]) + 1
        retry_at = None if attempts >= MAX_NOTIFY_ATTEMPTS else in_seconds(
            backoff_seconds(attempts + 1))
        store.alert_notify_failed(row["id"], error, retry_at)
        log.warning("alert %s: notification failed (%s)", row["id"], error)
    return {"sent": sent, "failed": failed}


def send_test(urls: list[str]) -> str | None:
    """A test message, so the seller sees a channel works before an alert depends on it."""
    return send(urls, "PicGuard 测试 / test",
                "通知渠道正常。 Notifications from PicGuard reach you.")


def daily_witness(store: Store, settings) -> dict:
    """The scheduler's job: send the head digest when a day has passed and the chain grew."""
    if not settings.notify_urls:
        return {"sent": False, "reason": "no notification channels configured"}
    return Ledger(store, settings.data_dir).witness(settings.notify_urls, send, force=False)
