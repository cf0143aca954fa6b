"""`make bench`: what the safety of personal data costs per request, against validating the same
booking with marshmallow (the work every intake does anyway), measured in the same run.

    python -m tests.bench.security

Per operation, the median of several timed batches: verifying a staff token (ES256 against the
JWKS), sealing a household (AES-256-GCM) and opening it, the keyed phone hash, the per-client
rate-limit check, and who-asks on booking's RPC (notification signing its assertion, booking
verifying it; shared.rpc_identity). Results in var/bench-security.json."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from deploy.local.devauth import DevKeys
from deploy.local.stack import ROOT
from services.booking.schemas import BookingRequestSchema
from shared import auth, public, rpc_identity, sealing
from shared.household import HouseholdSchema, household_json
from tests.factories import booking_body

RESULTS = ROOT / "var" / "bench-security.json"
BATCHES, PER_BATCH = 7, 500


def per_call_us(work: Callable[[], object]) -> float:
    """The median over BATCHES of the mean time of one call, in microseconds."""
    work()
    samples = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(PER_BATCH):
            work()
        samples.append((time.perf_counter() - started) / PER_BATCH * 1e6)
    return statistics.median(samples)


def main(argv: list[str]) -> None:
    keys = DevKeys(Path(tempfile.mkdtemp(prefix="bench-keys-"))).ensure()
    os.environ.update(keys.env() | keys.service_env("notification"))
    os.environ["PUBLIC_RATE_LIMIT"] = "1000000000/second"
    auth.reset(), sealing.reset(), public.reset(), rpc_identity.reset()
    body = booking_body()
    household = household_json(
        HouseholdSchema().load({k: v for k, v in body.items() if k not in ("channel", "consent")})
    )
    token = keys.token("reception")
    ring = sealing.keyring()
    sealed = ring.seal(household, "booking-1")
    verifier = auth.verifier()
    asks = rpc_identity.for_service("notification", "booking", "message slot_fixed", ["booking-1"])
    baseline = per_call_us(lambda: BookingRequestSchema().load(body))
    measured = {
        "verify staff token (ES256)": per_call_us(lambda: verifier.verify(token, cache=False)),
        "verify a token seen before (cache)": per_call_us(lambda: verifier.verify(token)),
        "seal household (AES-256-GCM)": per_call_us(lambda: ring.seal(household, "booking-1")),
        "open household": per_call_us(lambda: ring.open(sealed, "booking-1")),
        "keyed phone hash (HMAC-SHA256)": per_call_us(lambda: ring.lookup_hash(household["phone"])),
        "rate-limit check (moving window)": per_call_us(lambda: public.check_rate("bench", "192.0.2.1")),
        "sign a service assertion (EdDSA)": per_call_us(
            lambda: rpc_identity.for_service("notification", "booking", "message slot_fixed", ["booking-1"])
        ),
        "verify a service assertion": per_call_us(
            lambda: rpc_identity.verify(asks, "booking", ["booking-1"], services=("notification",))
        ),
    }
    rows = {"baseline: validate a booking (marshmallow)": {"us": round(baseline, 1), "ratio": 1.0}}
    for label, us in measured.items():
        rows[label] = {"us": round(us, 1), "ratio": round(us / baseline, 3)}
    intake = sum(measured[k] for k in ("seal household (AES-256-GCM)", "keyed phone hash (HMAC-SHA256)"))
    intake += measured["rate-limit check (moving window)"]
    rows["public intake adds (limit, seal, hash)"] = {"us": round(intake, 1), "ratio": round(intake / baseline, 3)}
    for label, row in rows.items():
        print(f"{label:45} {row['us']:9.1f} us  x{row['ratio']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine_cores": os.cpu_count(), "per_call": rows}, indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
