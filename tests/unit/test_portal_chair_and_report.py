"""The chairs' sign-in refuses a form posted from another site; the report's filters refuse what
is not a plain number (a 422 page, never a 500)."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.portal.chair import _from_this_site
from services.portal.report import _filters


def posted(headers: dict) -> Request:
    return Request(EnvironBuilder(method="POST", base_url="http://portal.example", headers=headers).get_environ())


@pytest.mark.parametrize(
    "headers, allowed",
    [
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "http://portal.example"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({}, True),
    ],
)
def test_a_chair_sign_in_is_taken_only_from_this_site(headers, allowed):
    assert _from_this_site(posted(headers)) is allowed


@pytest.mark.parametrize("args", [{"year": "²⁰²⁶"}, {"year": "2026", "from": "¹"}, {"year": "20x6"}, {"to": "13"}])
def test_report_filters_refuse_what_is_not_a_plain_number(args):
    _, errors = _filters(args, 2026)
    assert errors and errors[0][0] in ("year", "from", "to")


def test_report_filters_turn_months_into_the_fiscal_years_months():
    query, errors = _filters({"year": "2026", "from": "11", "to": "2"}, 2026)
    assert not errors and query == {"year": "2026", "from": "2026-11", "to": "2027-02"}
    assert _filters({"year": "2026", "from": "2", "to": "11"}, 2026)[1][0][0] == "to"  # February 2027 > November
