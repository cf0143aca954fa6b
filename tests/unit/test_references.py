"""Daily booking references: in order and without gaps, also when several replicas hand them out."""

import datetime as dt

import pytest

from services.booking.references import INDEXES, References
from shared.db import ensure_indexes

DAY = dt.date(2026, 11, 28)


@pytest.fixture
def bookings_db(db):
    ensure_indexes(db, {"bookings": [*INDEXES, ("referral_id", {"unique": True, "sparse": True})]})
    return db


def book(references, db, day=DAY, **fields):
    return references.insert(db, day, lambda reference: {"reference": reference, **fields})["reference"]


def test_numbers_count_up_within_a_day_and_start_again_the_next(bookings_db):
    replica = References()
    assert [book(replica, bookings_db) for _ in range(3)] == ["261128-001", "261128-002", "261128-003"]
    assert book(replica, bookings_db, day=DAY + dt.timedelta(days=1)) == "261129-001"


def test_replicas_interleave_without_duplicates_or_gaps(bookings_db):
    first, second = References(), References()
    taken = [book(first, bookings_db), book(first, bookings_db)]
    taken += [book(second, bookings_db), book(second, bookings_db)]  # reads what is in use: 3, 4
    taken.append(book(first, bookings_db))  # its 3 is taken: reads the highest again, takes 5
    assert taken == ["261128-001", "261128-002", "261128-003", "261128-004", "261128-005"]
    assert bookings_db.bookings.count_documents({}) == 5


def test_the_counter_kept_before_the_upgrade_is_respected(bookings_db):
    bookings_db.counters.insert_one({"_id": "reference-2026-11-28", "seq": 7})
    assert book(References(), bookings_db) == "261128-008"


def test_a_repeated_referral_is_raised_not_renumbered(bookings_db):
    replica = References()
    book(replica, bookings_db, referral_id="r1")
    with pytest.raises(Exception) as raised:
        replica.insert(bookings_db, DAY, lambda reference: {"reference": reference, "referral_id": "r1"}, lambda: True)
    assert getattr(raised.value, "code", None) == 11000
    assert bookings_db.bookings.count_documents({}) == 1
