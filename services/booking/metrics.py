"""Booking's own metrics (labels: channel codes only)."""

from prometheus_client import Counter, Gauge

from shared.metrics import PREFIX, registry_for

_registry = registry_for("booking")

bookings_received = Counter(
    PREFIX + "bookings_received_total", "Bookings accepted, by channel.", ["channel"], registry=_registry
)
bookings_cancelled = Counter(
    PREFIX + "bookings_cancelled_total", "Bookings cancelled, by channel.", ["channel"], registry=_registry
)
persons_requested = Counter(
    PREFIX + "persons_requested_total",
    "People in accepted bookings (applicants), by channel.",
    ["channel"],
    registry=_registry,
)
referrals_rejected = Counter(
    PREFIX + "referrals_rejected_total",
    "Referrals from outreach channels that failed validation, by channel.",
    ["channel"],
    registry=_registry,
)
public_refused = Counter(
    PREFIX + "public_requests_refused_total",
    "Requests to the public booking form refused before validation: rate_limited or honeypot.",
    ["reason"],
    registry=_registry,
)
audit_chain_broken = Gauge(
    PREFIX + "audit_chain_broken",
    "1 when the last check found the audit log's chain broken (an entry changed, missing or re-linked).",
    registry=_registry,
)
audit_last_seq = Gauge(
    PREFIX + "audit_last_seq",
    "The audit log's newest entry number at the last check: kept by Prometheus, outside the database, so "
    "removing the newest entries shows as a fall.",
    registry=_registry,
)
rpc_refused = Counter(
    PREFIX + "rpc_refused_total",
    "RPC calls refused, by entrypoint and reason: malformed arguments (not a booking id, too many), or no "
    "valid identity (malformed, invalid_token, role, unknown_service, invalid_assertion, other_bookings).",
    ["entrypoint", "reason"],
    registry=_registry,
)
personal_data_erased = Counter(
    PREFIX + "personal_data_erased_total",
    "Bookings whose personal data was erased at the end of the retention period.",
    registry=_registry,
)
