"""The RPC dump of issue 18 against a real booking over the real broker: a caller that only says
who it is gets nothing, and the refusal is counted; a staff member's token or notification's own
signed assertion gets the contact, and the read is in the audit log under the verified asker."""

from __future__ import annotations

import requests
from nameko.standalone.rpc import ClusterRpcProxy

from services.booking.service import BookingService
from tests.factories import booking_body, notification_identity, staff_identity, staff_token


def refused_count(booking: str, entrypoint: str, reason: str) -> float:
    text = requests.get(f"{booking}/metrics", timeout=10).text
    prefix = f'mynacar_rpc_refused_total{{entrypoint="{entrypoint}",reason="{reason}"}} '
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


def test_contacts_go_only_to_a_verified_asker(start, rabbit_config):
    booking = start(BookingService)
    answer = requests.post(f"{booking}/api/v1/bookings", json=booking_body(channel="web"), timeout=10)
    booking_id = answer.json()["booking_id"]
    made_up = {"subject": "r.sato", "role": "reception", "purpose": "call list"}
    before = refused_count(booking, "get_contacts", "malformed"), refused_count(booking, "get_contact", "role")
    with ClusterRpcProxy(rabbit_config, timeout=10) as cluster:
        assert cluster.booking.get_contacts([booking_id], made_up) == {}  # what any pod could do before
        assert cluster.booking.get_contact(booking_id, None) is None
        assert cluster.booking.get_contact(booking_id, staff_identity("reception")) is None
        after = refused_count(booking, "get_contacts", "malformed"), refused_count(booking, "get_contact", "role")
        assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
        reception = staff_identity("reception", "call list", subject="r.sato")
        assert cluster.booking.get_contacts([booking_id], reception)[booking_id]["phone"] == "0986221234"
        assert cluster.booking.get_contact(booking_id, notification_identity(booking_id))["name"] == "都城 花子"
    manager = {"Authorization": f"Bearer {staff_token('manager')}"}
    log = requests.get(f"{booking}/api/v1/audit", headers=manager, params={"booking_id": booking_id}, timeout=10)
    readers = {(e["subject"], e["purpose"]) for e in log.json()["entries"] if e["action"] == "read"}
    assert readers == {("r.sato", "call list"), ("service:notification", "message slot_fixed")}
