"""Notification's own metrics (labels: kind, channel and status codes only)."""

from prometheus_client import Counter

from shared.metrics import PREFIX, registry_for

_registry = registry_for("notification")

notifications = Counter(
    PREFIX + "notifications_total",
    "Messages to residents, by kind, channel (email, phone) and status (sent, to_call, retrying, failed).",
    ["kind", "channel", "status"],
    registry=_registry,
)
call_tasks_created = Counter(PREFIX + "call_tasks_created_total", "Day-of phone calls planned.", registry=_registry)
