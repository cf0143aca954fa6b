"""Scheduling's own metrics (labels: crew ids and outcome codes only)."""

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import PREFIX, registry_for

_registry = registry_for("scheduling")

slots_fixed = Counter(PREFIX + "slots_fixed_total", "Slots fixed, by crew.", ["crew_id"], registry=_registry)
slot_clashes = Counter(
    PREFIX + "slot_clashes_total", "Attempts to fix a slot that did not fit (answered 409).", registry=_registry
)
slots_released = Counter(
    PREFIX + "slots_released_total", "Fixed slots released, by reason.", ["reason"], registry=_registry
)
slots_offered = Counter(
    PREFIX + "slots_offered_total", "Freed windows offered to waiting households (one per offer).", registry=_registry
)
slots_recovered = Counter(
    PREFIX + "slots_recovered_total", "Freed windows taken by a waiting household.", registry=_registry
)
visits_done = Counter(
    PREFIX + "visits_done_total", "Visit results recorded, by outcome.", ["outcome"], registry=_registry
)
persons_applied = Counter(
    PREFIX + "persons_applied_total",
    "People whose application was made on a visit, by booking channel and district code.",
    ["channel", "district"],
    registry=_registry,
)
visits_waiting = Gauge(PREFIX + "visits_unscheduled", "Visits waiting for a slot.", registry=_registry)
request_to_slot_fixed = Histogram(
    PREFIX + "request_to_slot_fixed_seconds",
    "Time from a booking being received to a slot being fixed for it (reschedules not counted).",
    registry=_registry,
    buckets=tuple(h * 3600 for h in (1, 4, 24, 48, 72, 24 * 7, 24 * 14, 24 * 30, 24 * 60)),
)
stalled_working_days = Gauge(
    PREFIX + "scheduling_stalled_workdays",
    "Working days since a slot was last fixed (or since the oldest waiting request, if later) while "
    "visits wait for a slot; 0 when none wait.",
    registry=_registry,
)
visits_at_risk = Gauge(
    PREFIX + "visits_at_risk_of_wait_bound",
    "Waiting requests expected to be visited past the wait bound (the last plan or the queue says so).",
    registry=_registry,
)
plans_made = Counter(PREFIX + "plans_made_total", "Batch plans made.", registry=_registry)
plan_solve_seconds = Histogram(
    PREFIX + "plan_solve_seconds",
    "Time the optimiser took for a batch plan.",
    registry=_registry,
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
