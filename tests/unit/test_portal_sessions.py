"""Staff sessions and sign-ins in progress: what the browser holds, what the database holds, and
when each stops working."""

import datetime as dt

from services.portal.sessions import IDLE_MINUTES, Sessions
from shared import clock
from shared.auth import Staff
from tests.factories import hold_clock

RECEPTION = Staff(subject="demo-reception", roles=frozenset({"reception"}))


def new_session(db, expires_in=dt.timedelta(hours=8)):
    sessions = Sessions(db)
    session_id, session = sessions.create(RECEPTION, "受付", "token-abc", clock.now() + expires_in)
    return sessions, session_id, session


def test_the_cookie_names_a_session_the_database_knows_only_by_its_digest(db):
    sessions, session_id, _ = new_session(db)
    [stored] = list(db.sessions.find())
    assert stored["_id"] != session_id and session_id not in str(stored)
    loaded = sessions.load(session_id)
    assert loaded.staff == RECEPTION and loaded.access_token == "token-abc" and loaded.name == "受付"
    assert sessions.load(session_id[:-1] + ("A" if session_id[-1] != "A" else "B")) is None
    assert sessions.load("") is None and sessions.load(None) is None


def test_a_form_must_carry_its_sessions_csrf_token(db):
    _, _, session = new_session(db)
    _, _, other = new_session(db)
    assert session.csrf_ok(session.csrf_token)
    assert not session.csrf_ok(other.csrf_token)
    assert not session.csrf_ok("") and not session.csrf_ok(None)
    assert len(session.csrf_token) >= 32


def test_a_session_ends_after_idling_and_at_the_latest_when_its_token_does(db, monkeypatch):
    start = clock.now()
    sessions, session_id, _ = new_session(db, expires_in=dt.timedelta(hours=2))
    # Used every 20 minutes, it lives on past the idle limit...
    for minutes in (20, 40, 60, 80, 100):
        hold_clock(monkeypatch, start + dt.timedelta(minutes=minutes))
        assert sessions.load(session_id) is not None, minutes
    # ...but never past the access token's expiry.
    hold_clock(monkeypatch, start + dt.timedelta(hours=2, seconds=1))
    assert sessions.load(session_id) is None
    assert db.sessions.count_documents({}) == 0

    sessions, session_id, _ = new_session(db)
    hold_clock(monkeypatch, clock.now() + dt.timedelta(minutes=IDLE_MINUTES, seconds=1))
    assert sessions.load(session_id) is None


def test_signing_out_ends_the_session(db):
    sessions, session_id, _ = new_session(db)
    sessions.end(session_id)
    assert sessions.load(session_id) is None


def test_a_sign_in_in_progress_is_used_once_and_returns_only_to_a_page_of_ours(db, monkeypatch):
    sessions = Sessions(db)
    sign_in = sessions.begin_sign_in("/reception/waiting")
    assert len({sign_in.state, sign_in.nonce, sign_in.code_verifier}) == 3
    assert 43 <= len(sign_in.code_verifier) <= 128  # RFC 7636's bounds
    taken = sessions.take_sign_in(sign_in.state)
    assert taken == sign_in and taken.return_to == "/reception/waiting"
    assert sessions.take_sign_in(sign_in.state) is None  # a replayed callback finds nothing

    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "reception"):
        assert sessions.begin_sign_in(target).return_to == "/staff"  # the staff menu

    late = sessions.begin_sign_in("/")
    hold_clock(monkeypatch, clock.now() + dt.timedelta(minutes=11))
    assert sessions.take_sign_in(late.state) is None
