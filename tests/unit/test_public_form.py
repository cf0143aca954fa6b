"""The public booking form: rate-limited per client, a honeypot for scripts, reception unlimited."""

import threading

import pytest
from limits import parse

from services.booking import metrics as m
from services.booking.service import BookingService
from shared import public
from shared.http import ApiError
from tests.factories import booking_body, json_request, response_json, staff_token, worker


@pytest.fixture
def service(db, monkeypatch):
    monkeypatch.setenv("PUBLIC_RATE_LIMIT", "3/minute")
    return worker(BookingService, db)


def anonymous(body=None, **kwargs):
    return json_request(body or booking_body(channel="web"), token=None, **kwargs)


def refused(reason: str) -> float:
    return m.public_refused.labels(reason)._value.get()


def test_a_client_over_the_limit_gets_429_with_retry_after_and_others_are_not_affected(service, db):
    before = refused("rate_limited")
    assert [service.create_booking(anonymous()).status_code for _ in range(3)] == [201, 201, 201]
    over = service.create_booking(anonymous())
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert response_json(over)["message"]["ja"].startswith("短時間に")
    assert db.bookings.count_documents({}) == 3
    assert refused("rate_limited") == before + 1
    # Another address, and reception staff typing in phone bookings, are not limited.
    assert service.create_booking(anonymous(remote_addr="192.0.2.7")).status_code == 201
    reception = staff_token("reception")
    assert all(
        service.create_booking(json_request(booking_body(), token=reception)).status_code == 201 for _ in range(5)
    )


def test_behind_the_ingress_the_client_is_the_address_the_proxy_saw(service, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    for _ in range(3):
        assert service.create_booking(anonymous(headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 201
    # The client cannot pick a fresh identity by prepending its own entries.
    spoofed = anonymous(headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9"})
    assert service.create_booking(spoofed).status_code == 429
    assert service.create_booking(anonymous(headers={"X-Forwarded-For": "203.0.113.10"})).status_code == 201


def test_a_filled_honeypot_is_refused_and_nothing_is_stored(service, db):
    before = refused("honeypot")
    answer = service.create_booking(anonymous(booking_body(channel="web", website="http://spam.example")))
    assert answer.status_code == 422
    [error] = response_json(answer)["fields"]
    assert error["field"] == "website" and error["ja"] == "この項目は空欄のままにしてください。"
    assert db.bookings.count_documents({}) == 0
    assert refused("honeypot") == before + 1
    assert service.create_booking(anonymous(booking_body(channel="web", website=""))).status_code == 201


def test_a_bad_token_on_the_public_form_is_refused_rather_than_ignored(service, db):
    assert service.create_booking(json_request(booking_body(), token="garbage")).status_code == 401
    assert db.bookings.count_documents({}) == 0


def test_the_limiter_expires_old_entries_inline_without_starting_threads(monkeypatch):
    storage = public.InlineExpiryStorage()
    limiter = public.MovingWindowRateLimiter(storage)
    item = parse("2/second")
    clock = [1000.0]
    monkeypatch.setattr(public.time, "monotonic", lambda: clock[0])
    threads = threading.active_count()
    assert limiter.hit(item, "bookings", "198.51.100.1") and limiter.hit(item, "bookings", "198.51.100.1")
    assert not limiter.hit(item, "bookings", "198.51.100.1")  # the window is full
    assert threading.active_count() == threads
    assert storage.events  # entries are kept while their window lasts
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: 10**10)  # long after the window
    clock[0] += public.EXPIRY_SECONDS
    limiter.hit(item, "bookings", "203.0.113.9")  # any later request expires what is old
    assert not any(entries for key, entries in storage.events.items() if "198.51.100.1" in key)


def test_a_residents_own_page_has_its_own_more_generous_limit(monkeypatch):
    """Several calls per page view, and the link is a credential nobody can guess: the own page
    counts against SELF_RATE_LIMIT, apart from the booking form's limit."""
    monkeypatch.setenv("PUBLIC_RATE_LIMIT", "2/minute")
    monkeypatch.setenv("SELF_RATE_LIMIT", "4/minute")
    public.reset()
    own = public.limits_from_env("SELF_RATE_LIMIT", public.DEFAULT_SELF_LIMIT)
    for _ in range(4):
        public.check_rate("self", "203.0.113.9", own)
    with pytest.raises(ApiError) as refused:
        public.check_rate("self", "203.0.113.9", own)
    assert refused.value.status == 429
    public.check_rate("bookings", "203.0.113.9")  # the form's own count is untouched


def test_wrong_tokens_count_against_the_limit_so_guessing_them_is_not_free(service, db):
    answers = [service.create_booking(json_request(booking_body(), token=f"guess-{i}")).status_code for i in range(4)]
    assert answers == [401, 401, 401, 429]
    assert service.create_booking(anonymous()).status_code == 429  # the same client, now limited


def test_an_ipv6_client_is_counted_by_its_64_prefix(service, db):
    first, same_64, other_64 = "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"
    assert public.bucket(first) == public.bucket(same_64) == "2001:db8:1:2::/64"
    assert public.bucket("192.0.2.7") == "192.0.2.7" and public.bucket("unknown") == "unknown"
    for _ in range(3):
        assert service.create_booking(anonymous(remote_addr=first)).status_code == 201
    assert service.create_booking(anonymous(remote_addr=same_64)).status_code == 429  # a new address, same home
    assert service.create_booking(anonymous(remote_addr=other_64)).status_code == 201


def test_a_body_without_a_length_is_read_only_up_to_the_limit():
    import io

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from shared.http import MAX_BODY_BYTES, read_json

    class Endless(io.RawIOBase):
        """A chunked upload that never ends, counting what was read of it."""

        taken = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.taken += len(buffer)
            buffer[:] = b" " * len(buffer)
            return len(buffer)

    stream = Endless()
    environ = EnvironBuilder(method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(stream), "wsgi.input_terminated": True})
    with pytest.raises(ApiError) as refused:
        read_json(Request(environ))
    assert refused.value.status == 413 and stream.taken <= MAX_BODY_BYTES + 128 * 1024


@pytest.mark.parametrize("claimed", ["phone", "liaison"])
def test_the_public_form_cannot_book_for_another_channel(service, db, claimed):
    answer = service.create_booking(json_request(booking_body(channel=claimed), token=None))
    assert answer.status_code == 422
    [error] = response_json(answer)["fields"]
    assert error["field"] == "channel" and error["ja"] == "インターネットからの申込のみ受け付けます。"
    assert db.bookings.count_documents({}) == 0
    # Staff on the phone book for the phone channel; the public door for the web.
    assert service.create_booking(json_request(booking_body(channel=claimed))).status_code == 201
    assert service.create_booking(json_request(booking_body(channel="web"), token=None)).status_code == 201
