"""The broker identities' permissions as regular expressions (the broker itself tries them in
tests/service/test_broker_permissions.py)."""

import re

from deploy import broker_access
from deploy.services import SERVICES, spec
from deploy.tools.deployfiles import ROOT, consumed_queues


def matches(pattern: str, name: str) -> bool:
    return re.fullmatch(pattern, name) is not None


def test_the_table_in_the_security_notes_is_the_one_the_code_gives():
    assert broker_access.table() in (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_each_service_reads_exactly_its_own_queues_and_nobody_writes_the_default_exchange():
    for service in SERVICES:
        permissions = broker_access.access(service).permissions()
        assert not matches(permissions["write"], "amq.default"), service.name
        assert not matches(permissions["write"], ""), service.name
        for other in SERVICES:
            for queue in consumed_queues(other):
                assert matches(permissions["read"], queue) == (other == service), (service.name, queue)


def test_rpc_keys_name_the_targets_a_service_calls():
    rpc = {s.name: broker_access.access(s).topic_permissions().get("nameko-rpc") for s in SERVICES}
    assert rpc["outreach"] is None and rpc["portal"] is None  # no RPC at all
    assert matches(rpc["notification"]["write"], "booking.get_contacts")
    assert not matches(rpc["notification"]["write"], "scheduling.take_session_seat")
    assert not matches(rpc["liaison"]["write"], "booking.get_contact")
    for name, rules in rpc.items():
        if rules:
            assert not matches(rules["read"], "#") and not matches(rules["read"], "booking.get_contacts"), name
    assert matches(rpc["booking"]["read"], "booking.*") and not matches(rpc["scheduling"]["read"], "booking.*")


def test_a_channel_is_the_only_one_that_may_publish_its_referrals():
    for service in SERVICES:
        topics = broker_access.access(service).topic_permissions().get("outreach.channels", {"write": "^$"})
        assert matches(topics["write"], f"referral.{service.name}") == service.channel, service.name
    assert spec("liaison").channel
