"""How every page answers when something goes wrong: a Japanese page, never a traceback."""

import datetime as dt

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.portal.sessions import Sessions
from services.portal.web import COOKIE, guarded, page
from shared import clock
from shared.auth import Staff


class FakeService:
    def __init__(self, db):
        self.db = db


def request(path="/", method="GET", cookie=None, form=None):
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    return Request(EnvironBuilder(path=path, method=method, headers=headers, data=form).get_environ())


def test_a_bug_in_a_page_ends_on_a_japanese_apology_not_a_traceback(db):
    @guarded
    def broken(request):
        raise KeyError("surprise")

    answer = broken(request())
    assert answer.status_code == 500
    text = answer.get_data(as_text=True)
    assert "システムで問題が起きました" in text and "Traceback" not in text and "surprise" not in text
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_a_page_sends_a_stranger_to_sign_in_and_refuses_a_wrong_role_or_a_stale_form(db):
    @page("reception")
    def phone(self, page):
        return Response("ok")

    service = FakeService(db)
    to_sign_in = phone(service, request("/reception/phone?x=1"))
    assert to_sign_in.status_code == 303 and to_sign_in.headers["Location"] == "/signin?next=/reception/phone%3Fx%3D1"

    sessions = Sessions(db)
    expires = clock.now() + dt.timedelta(hours=1)
    crew_id, _ = sessions.create(Staff("c", frozenset({"crew"}), "crew-1"), "訪問班", "t", expires)
    refused = phone(service, request(cookie=crew_id))
    assert refused.status_code == 403 and "この画面を開く権限がありません" in refused.get_data(as_text=True)

    reception_id, session = sessions.create(Staff("r", frozenset({"reception"})), "受付", "t", expires)
    assert phone(service, request(cookie=reception_id)).get_data(as_text=True) == "ok"
    stale = phone(service, request(method="POST", cookie=reception_id, form={"csrf_token": "old"}))
    assert stale.status_code == 400 and "画面の有効期限が切れました" in stale.get_data(as_text=True)
    fresh = phone(service, request(method="POST", cookie=reception_id, form={"csrf_token": session.csrf_token}))
    assert fresh.get_data(as_text=True) == "ok"


def test_no_page_mixin_hides_another_ones_method():
    """The portal's pages come from one mixin per audience; a helper named alike in two of them
    would silently replace the other's (Python's method order), as a shared `_household_page` once did."""
    from services.portal.service import PortalService

    mixins = [base for base in PortalService.__mro__[1:] if base.__module__.startswith("services.portal.")]
    seen: dict[str, str] = {}
    for mixin in mixins:
        for name in vars(mixin):
            if callable(vars(mixin)[name]) and not name.startswith("__"):
                assert name not in seen, f"{name} is defined in both {seen[name]} and {mixin.__name__}"
                seen[name] = mixin.__name__
    assert len(mixins) >= 4
