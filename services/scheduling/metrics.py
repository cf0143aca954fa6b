"""Scheduling's own metrics (labels: crew ids and outcome codes only)."""

from prometheus_client import Counter, Gauge

from shared.metrics import PREFIX, registry_for

_registry = registry_for("scheduling")

slots_fixed = Counter(PREFIX + "slots_fixed_total", "Slots fixed, by crew.", ["crew_id"], registry=_registry)
slot_clashes = Counter(
    PREFIX + "slot_clashes_total", "Attempts to fix a slot that did not fit (answered 409).", registry=_registry
)
slots_released = Counter(
    PREFIX + "slots_released_total", "Fixed slots released, by reason.", ["reason"], registry=_registry
)
visits_done = Counter(
    PREFIX + "visits_done_total", "Visit results recorded, by outcome.", ["outcome"], registry=_registry
)
persons_applied = Counter(
    PREFIX + "persons_applied_total", "People whose application was made on a visit.", registry=_registry
)
visits_waiting = Gauge(PREFIX + "visits_unscheduled", "Visits waiting for a slot.", registry=_registry)
