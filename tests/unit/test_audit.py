"""The audit log: staff reads and changes of personal data, recorded and queryable by managers."""

import itertools
import json
import os
from pathlib import Path

import pytest

from deploy.tools import audit as audit_tool
from services.booking.service import BookingService
from shared import audit, clock
from tests.factories import (
    booking_body,
    json_request,
    notification_identity,
    response_json,
    staff_identity,
    staff_token,
    worker,
)


@pytest.fixture
def service(db):
    return worker(BookingService, db)


def as_(roles, subject, **kwargs):
    return json_request(token=staff_token(roles, subject=subject), **kwargs)


def log(service, **query):
    answer = service.audit_log(as_("manager", "m.kirishima", method="GET", query=query))
    assert answer.status_code == 200
    return response_json(answer)["entries"]


def test_staff_reads_searches_and_changes_are_recorded_with_who_and_why(service, db):
    booking_id = response_json(service.create_booking(json_request(booking_body(channel="web"), token=None)))[
        "booking_id"
    ]
    assert log(service) == []  # the resident's own booking is no staff access
    service.get_booking(as_("reception", "r.sato", method="GET"), booking_id)
    service.find_bookings(as_("reception", "r.sato", method="GET", query={"phone": "0986-22-1234"}))
    service.cancel_booking(as_("reception", "r.ito", body={"reason": "duplicate"}), booking_id)
    service.get_contacts([booking_id], staff_identity("crew", "crew day sheet", subject="c.mori", crew_id="crew-1"))
    service.get_contact(booking_id, notification_identity(booking_id))  # sending a message: the service itself
    entries = log(service)
    assert len(entries) == 5
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)  # newest first
    assert {(e["subject"], e["role"], e["action"], e["purpose"]) for e in entries} == {
        ("c.mori", "crew", "read", "crew day sheet"),
        ("service:notification", "service", "read", "message slot_fixed"),
        ("r.ito", "reception", "change", "cancel (duplicate)"),
        ("r.sato", "reception", "search", "find bookings by phone"),
        ("r.sato", "reception", "read", "booking"),
    }
    assert all(e["booking_ids"] == [booking_id] for e in entries)
    assert "都城" not in json.dumps(list(db.audit.find({})), ensure_ascii=False, default=str)


def test_managers_filter_the_log_and_nobody_else_reads_it(service, db, midday):
    first = response_json(service.create_booking(json_request(booking_body(channel="web"), token=None)))["booking_id"]
    second = response_json(service.create_booking(json_request(booking_body(channel="web"), token=None)))["booking_id"]
    service.get_booking(as_("reception", "r.sato", method="GET"), first)
    service.get_booking(as_("reception", "r.ito", method="GET"), second)
    assert [e["booking_ids"] for e in log(service, booking_id=second)] == [[second]]
    assert [e["subject"] for e in log(service, subject="r.sato")] == ["r.sato"]
    today = clock.today().isoformat()  # the municipality's day, not read back from the log
    assert len(log(service, **{"from": today, "to": today})) == 2
    assert log(service, **{"from": "2020-01-01", "to": "2020-01-02"}) == []
    assert service.audit_log(as_("reception", "r.sato", method="GET")).status_code == 403
    # A query value is only ever a string compared as it is: an operator in it matches nothing.
    assert log(service, subject='{"$ne": null}') == []


# --- the chain that shows tampering --------------------------------------------------------------


def chained_log(service, db, reads: int = 4) -> list[str]:
    booking_id = response_json(service.create_booking(json_request(booking_body(channel="web"), token=None)))[
        "booking_id"
    ]
    for n in range(reads):
        service.get_booking(as_("reception", f"r.{n}", method="GET"), booking_id)
    return [e["_id"] for e in db.audit.find({}).sort("seq", 1)]


def verdict(db) -> tuple[int, str | None]:
    return audit.check(db)


def test_entries_are_numbered_and_chained_and_the_chain_verifies(service, db):
    ids = chained_log(service, db)
    entries = list(db.audit.find({}).sort("seq", 1))
    assert [e["seq"] for e in entries] == [1, 2, 3, 4] and len(ids) == 4
    assert entries[0]["prev"] == audit.GENESIS
    assert all(later["prev"] == earlier["mac"] for earlier, later in itertools.pairwise(entries))
    assert verdict(db) == (4, None)


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        (
            lambda db, ids: db.audit.update_one({"_id": ids[1]}, {"$set": {"subject": "someone.else"}}),
            "entry 2 was changed",
        ),
        (lambda db, ids: db.audit.update_one({"_id": ids[2]}, {"$set": {"booking_ids": []}}), "entry 3 was changed"),
        (lambda db, ids: db.audit.delete_one({"_id": ids[1]}), "entry 2 is missing"),
        (lambda db, ids: db.audit.update_one({"_id": ids[1]}, {"$unset": {"purpose": ""}}), "entry 2 was changed"),
        (lambda db, ids: db.audit.update_one({"_id": ids[3]}, {"$set": {"prev": "0" * 64}}), "entry 4 does not follow"),
    ],
    ids=["a subject changed", "the bookings changed", "an entry removed", "a field removed", "an entry re-linked"],
)
def test_a_changed_removed_or_relinked_entry_breaks_the_chain(service, db, tamper, found):
    ids = chained_log(service, db)
    tamper(db, ids)
    _checked, broken = verdict(db)
    assert broken is not None and broken.startswith(found), broken


def test_a_forged_entry_without_the_keys_is_found(service, db):
    chained_log(service, db, reads=2)
    last = db.audit.find_one(sort=[("seq", -1)])
    forged = {**last, "_id": "forged", "seq": last["seq"] + 1, "prev": last["mac"], "subject": "nobody"}
    forged["mac"] = audit.mac_of(forged, b"a key the database thief guessed")
    db.audit.insert_one(forged)
    assert verdict(db) == (2, "entry 3 was changed")


def test_a_replica_that_took_the_next_number_first_is_followed_not_overwritten(service, db, monkeypatch):
    chained_log(service, db, reads=1)
    insert = db.audit.insert_one
    raced = []

    def other_replica_first(document):  # between our read of the last entry and our insert
        if not raced:
            raced.append(document["seq"])
            theirs = {**document, "_id": "other", "subject": "other.replica"}
            insert({**theirs, "mac": audit.mac_of(theirs, audit.signing_key()[1])})
        return insert(document)

    monkeypatch.setattr(db.audit, "insert_one", other_replica_first)
    service.get_booking(as_("reception", "r.late", method="GET"), db.bookings.find_one()["_id"])
    subjects = [e["subject"] for e in db.audit.find({}).sort("seq", 1)]
    assert subjects == ["r.0", "other.replica", "r.late"] and raced == [2]
    assert verdict(db) == (3, None)


def test_the_operators_command_says_whether_the_chain_holds(service, db, monkeypatch, capsys):
    import shared.db

    ids = chained_log(service, db, reads=3)
    monkeypatch.setattr(shared.db, "get_database", lambda name: db)
    assert audit_tool.main(["verify"]) == 0
    assert "3 entries in order" in capsys.readouterr().out
    db.audit.delete_one({"_id": ids[1]})
    assert audit_tool.main(["verify"]) == 1
    assert "BROKEN: entry 2 is missing" in capsys.readouterr().out


def test_the_hourly_check_raises_the_gauge_the_alert_watches(service, db):
    from services.booking import metrics as m

    ids = chained_log(service, db, reads=2)
    service.check_audit_chain()
    assert m.audit_chain_broken._value.get() == 0
    db.audit.update_one({"_id": ids[0]}, {"$set": {"action": "search"}})
    service.check_audit_chain()
    assert m.audit_chain_broken._value.get() == 1


def test_an_entry_stripped_of_its_number_is_found(service, db):
    ids = chained_log(service, db, reads=3)
    db.audit.update_one({"_id": ids[-1]}, {"$unset": {"seq": ""}})  # the newest: no gap is left
    assert verdict(db) == (2, "1 entries without a number since the chain began (hidden from the log)")


def test_removing_the_newest_entries_is_found_against_a_checkpoint_noted_outside(service, db, monkeypatch, capsys):
    import shared.db
    from services.booking import metrics as m

    ids = chained_log(service, db, reads=4)
    service.check_audit_chain()  # the hourly check notes the newest entry outside the database
    assert m.audit_last_seq._value.get() == 4
    seq, mac = audit.newest(db)
    for removed in ids[2:]:
        db.audit.delete_one({"_id": removed})
    assert verdict(db) == (2, None)  # what is left still chains: the chain alone cannot tell
    assert (
        audit.check(db, (seq, mac))[1] == "entry 4 of the checkpoint is gone or changed (the newest entries removed?)"
    )
    service.check_audit_chain()
    assert m.audit_last_seq._value.get() == 2  # the fall the alert MynacarAuditEntriesRemoved watches
    monkeypatch.setattr(shared.db, "get_database", lambda name: db)
    assert audit_tool.main(["verify", "--checkpoint", f"{seq}:{mac}"]) == 1
    assert "BROKEN: entry 4 of the checkpoint" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        audit_tool.main(["verify", "--checkpoint", "4:short"])


def test_the_chain_has_keys_of_its_own_that_rotate_apart_from_the_data_keys(service, db, monkeypatch, tmp_path):
    """Entries name the audit key that signed them: rotating the audit key keeps older entries
    checkable, and rotating the data keys does not touch the chain (issue 18, item 4)."""
    from shared import sealing

    chained_log(service, db, reads=1)
    first = db.audit.find_one({"seq": 1})
    ring = json.loads(Path(os.environ["DATA_KEYS_FILE"]).read_text())
    assert first["key"] == ring["audit_active"]
    rotated = {
        **sealing.Keyring.generate("data-2"),  # new data keys and hash key
        "audit_active": "audit-2",
        "audit_keys": {**ring["audit_keys"], "audit-2": sealing.Keyring.generate("x")["keys"]["x"]},
    }
    rotated["keys"] = {**ring["keys"], **rotated["keys"]}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(rotated))
    monkeypatch.setenv("DATA_KEYS_FILE", str(path))
    sealing.reset()
    service.get_booking(as_("reception", "r.after", method="GET"), db.bookings.find_one()["_id"])
    assert db.audit.find_one({"subject": "r.after"})["key"] == "audit-2"
    assert verdict(db) == (2, None)  # both keys held: the whole chain holds
    del rotated["audit_keys"][ring["audit_active"]]
    path.write_text(json.dumps(rotated))
    sealing.reset()
    assert verdict(db) == (0, f"entry 1 names an audit key that is not held ({ring['audit_active']!r})")


def test_an_append_reads_the_log_once_and_then_follows_its_own_head(db, monkeypatch):
    """On the local stand-in a sorted look-up scans the whole log: the process remembers the
    newest entry it wrote, and reads the log again only when another replica wrote in between."""
    from shared.db import ensure_indexes

    ensure_indexes(db, {"audit": audit.INDEXES})  # the unique number settles replicas
    lookups = []
    find_one = db.audit.find_one
    monkeypatch.setattr(db.audit, "find_one", lambda *a, **k: lookups.append(1) or find_one(*a, **k))
    who = {"subject": "r.sato", "role": "reception", "purpose": "booking"}
    for n in range(5):
        audit.record(db, who, "read", [f"b{n}"])
    assert len(lookups) == 1
    theirs = {**db.audit.find_one({"seq": 5}), "_id": "other", "seq": 6, "subject": "other.replica"}
    theirs["prev"] = find_one({"seq": 5})["mac"]
    theirs["mac"] = audit.mac_of(theirs, audit.signing_key()[1])
    db.audit.insert_one(theirs)  # another replica's append
    audit.record(db, who, "read", ["b6"])
    assert [e["subject"] for e in db.audit.find({}).sort("seq", 1)][-2:] == ["other.replica", "r.sato"]
    assert audit.check(db) == (7, None)
