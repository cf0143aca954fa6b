"""The article's story end to end: the services run as processes, as `make run` starts them.

A household books by phone, reception fixes a suggested slot, the crew records the visit; a
community-hall liaison refers another resident. Checked from the outside: the HTTP APIs, the
events on the bus (a plain kombu consumer), the e-mails in the real SMTP server's mailbox, the
call task, the funnel, the logs and the metrics."""

import contextlib
import datetime as dt

import pytest

from deploy.local.stack import SERVICES
from shared import clock, events
from tests.bus import settled, wait_until
from tests.factories import applicant, booking_body, funnel_period, signed_in, working_day

pytestmark = pytest.mark.e2e

RESIDENT_SECRETS = ("都城", "花子", "ミヤコノジョウ", "0986221234", "0986-22-1234", "大牟田", "hanako@example.jp")


def liaison(stack):
    return signed_in(stack, "liaison", liaison_id="hall-shonai-3")


def mails(stack, to=None):
    return [m for m in stack.mails() if to is None or m["To"] == to]


def visits_of(stack, booking_id):
    answer = signed_in(stack).get(
        f"{stack.url('scheduling')}/api/v1/visits", params={"booking_id": booking_id}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["visits"]


@pytest.fixture(scope="module")
def story(stack, bus):
    """Runs the story once; the tests below check what it left behind."""
    booking_url, scheduling_url = stack.url("booking"), stack.url("scheduling")
    wish = working_day(3)
    body = booking_body(preferred=[{"date": wish.isoformat(), "period": "am"}])
    answer = signed_in(stack).post(f"{booking_url}/api/v1/bookings", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    booking = answer.json()

    visit = wait_until(lambda: visits_of(stack, booking["booking_id"]))[0]
    suggestions = (
        signed_in(stack).get(f"{scheduling_url}/api/v1/visits/{visit['visit_id']}/suggestions", timeout=5).json()
    )
    offer = suggestions["suggestions"][0]
    fixed = signed_in(stack).post(
        f"{scheduling_url}/api/v1/visits/{visit['visit_id']}/slot",
        json={"start": offer["start"], "crew_id": offer["crew_id"]},
        timeout=5,
    )
    assert fixed.status_code == 200, fixed.text

    # A second household asks for the same time: the crew is busy, so 409 with other offers.
    other = (
        signed_in(stack)
        .post(
            f"{booking_url}/api/v1/bookings",
            json=booking_body(applicants=[applicant(2)], email="chiyo@example.jp"),
            timeout=10,
        )
        .json()
    )
    other_visit = wait_until(lambda: visits_of(stack, other["booking_id"]))[0]
    clash = signed_in(stack).post(
        f"{scheduling_url}/api/v1/visits/{other_visit['visit_id']}/slot",
        json={"start": offer["start"], "crew_id": offer["crew_id"]},
        timeout=5,
    )

    done = signed_in(stack).post(
        f"{scheduling_url}/api/v1/visits/{visit['visit_id']}/done",
        json={"outcome": "completed", "persons_applied": 2},
        timeout=5,
    )
    assert done.status_code == 200, done.text

    referred = booking_body(applicants=[applicant(3)], email=None, phone="090-1111-2222")
    referred.pop("channel")
    referred.update(community_hall="庄内地区公民館")
    referral = liaison(stack).post(f"{stack.url('liaison')}/api/v1/referrals", json=referred, timeout=10)
    assert referral.status_code == 201, referral.text
    return {
        "booking": booking,
        "visit": visit,
        "offer": offer,
        "wish": wish,
        "clash": clash,
        "referral_answer": referral,
        "other": other,
    }


def test_the_preferred_day_is_offered_first(story):
    offer = story["offer"]
    assert offer["matches_preference"]
    start = dt.datetime.fromisoformat(offer["start"])
    assert start.date() == story["wish"] and start.hour < 12


def test_a_clashing_slot_is_refused_with_other_offers(story):
    assert story["clash"].status_code == 409
    assert story["clash"].json()["suggestions"]


def test_the_three_events_went_over_the_bus_with_one_envelope(story, bus):
    booking_id = story["booking"]["booking_id"]
    for event_type in ("booking.request_received", "scheduling.slot_fixed", "scheduling.visit_done"):
        seen = bus.wait_for(lambda _, t=event_type: [b for b in bus.of_type(t) if b["correlation_id"] == booking_id])
        assert len({b["event_id"] for b in seen}) == 1  # one event; the relay may publish it twice (at least once)
        events.parse(seen[0], events.EVENT_TYPES[event_type])
    done = next(b for b in bus.of_type("scheduling.visit_done") if b["correlation_id"] == booking_id)
    assert done["payload"]["persons_applied"] == 2


def test_no_personal_data_travels_in_booking_or_scheduling_events(story, bus):
    bus.wait_for(lambda _: bus.of_type("scheduling.visit_done"))
    for message in bus.drain():
        if message["exchange"] in ("booking.events", "scheduling.events", "notification.events"):
            text = message["raw"] if isinstance(message["raw"], str) else message["raw"].decode()
            for secret in RESIDENT_SECRETS:
                assert secret not in text and secret.encode("unicode_escape").decode() not in text


def test_the_resident_got_three_emails_once_each(story, stack):
    def three():
        found = mails(stack, "hanako@example.jp")
        return found if len(found) >= 3 else None

    wait_until(three, timeout=30)
    found = settled(lambda: mails(stack, "hanako@example.jp"))  # a late duplicate would show here
    subjects = sorted(m["Subject"] for m in found)
    assert len(found) == 3
    assert any("受け付けました" in s for s in subjects)
    assert any("訪問日時が決まりました" in s for s in subjects)
    assert any("ご利用について" in s for s in subjects)
    assert len({m["Message-ID"] for m in found}) == 3
    body = next(m for m in found if "決まりました" in m["Subject"]).get_content()
    start = dt.datetime.fromisoformat(story["offer"]["start"])
    assert f"{start.month}月{start.day}日" in body and story["booking"]["reference"] in body


def test_the_call_task_for_the_day_names_whom_to_phone(story, stack):
    day = story["offer"]["start"][:10]
    tasks = (
        signed_in(stack).get(f"{stack.url('notification')}/api/v1/call-tasks", params={"date": day}, timeout=5).json()
    )
    [task] = [t for t in tasks["call_tasks"] if t["visit_id"] == story["visit"]["visit_id"]]
    assert task["name"] == "都城 花子" and task["phone"] == "0986221234"


def test_the_crew_day_sheet_lists_the_visit(story, stack):
    day = story["offer"]["start"][:10]
    sheet = (
        signed_in(stack)
        .get(f"{stack.url('scheduling')}/api/v1/crews/{story['offer']['crew_id']}/days/{day}", timeout=10)
        .json()
    )
    [stop] = [s for s in sheet["stops"] if s["visit_id"] == story["visit"]["visit_id"]]
    assert stop["arrive"] == story["offer"]["start"] and stop["district_name"] == "高崎"
    assert sheet["calls"][0]["phone"] == "0986221234"


def test_the_funnel_shows_each_channel(story, stack):
    def figures():
        rows = (
            signed_in(stack)
            .get(f"{stack.url('outreach')}/api/v1/funnel", params=funnel_period(), timeout=5)
            .json()["channels"]
        )
        by = {r["channel"]: r for r in rows}
        ready = by.get("phone", {}).get("visited") == 1 and by.get("liaison", {}).get("booked") == 1
        return by if ready else None

    by = wait_until(figures, timeout=30)
    assert by["phone"] == {
        "channel": "phone",
        "referred": 0,
        "booked": 2,
        "slot_fixed": 1,
        "visited": 1,
        "persons_applied": 2,
        "slots_recovered": 0,
    }
    assert by["liaison"]["referred"] == 1


def test_the_liaison_sees_the_referral_booked(story, stack):
    def booked():
        rows = signed_in(stack).get(f"{stack.url('liaison')}/api/v1/referrals", timeout=5).json()["referrals"]
        return rows if rows and rows[0]["status"] == "booked" else None

    [row] = wait_until(booked)
    assert row["reference"]


def test_bad_input_is_a_4xx_never_a_500(stack):
    booking_url = stack.url("booking")
    assert signed_in(stack).post(f"{booking_url}/api/v1/bookings", data="{", timeout=5).status_code == 400
    bad = signed_in(stack).post(
        f"{booking_url}/api/v1/bookings", json=booking_body(phone="x", needs="123456789012"), timeout=5
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["fields"]} == {"phone", "needs"}
    assert signed_in(stack).get(f"{booking_url}/api/v1/bookings/unknown", timeout=5).status_code == 404
    assert (
        signed_in(stack).get(f"{stack.url('scheduling')}/api/v1/visits/unknown/suggestions", timeout=5).status_code
        == 404
    )
    assert signed_in(stack).get(f"{booking_url}/api/v1/nothing-here", timeout=5).status_code == 404


def test_every_service_is_live_ready_and_measured(story, stack):
    for spec in SERVICES:
        base = stack.url(spec.name)
        assert signed_in(stack).get(f"{base}/health/live", timeout=5).status_code == 200
        ready = signed_in(stack).get(f"{base}/health/ready", timeout=5).json()
        assert ready["checks"] == {"database": True, "broker": True}
        metrics = signed_in(stack).get(f"{base}/metrics", timeout=5).text
        assert "mynacar_entrypoint_duration_seconds_bucket" in metrics
    # The referral's booking and the acknowledgements arrive by events: wait for them.
    referred = 'mynacar_bookings_received_total{channel="liaison"} 1.0'
    booking_metrics = wait_until(lambda: metrics_showing(stack, "booking", referred))
    assert 'mynacar_bookings_received_total{channel="phone"} 2.0' in booking_metrics
    assert "mynacar_audit_chain_broken 0.0" in booking_metrics  # checked at start, found whole
    scheduling_metrics = signed_in(stack).get(f"{stack.url('scheduling')}/metrics", timeout=5).text
    assert 'mynacar_visits_done_total{outcome="completed"} 1.0' in scheduling_metrics
    served = [line for line in scheduling_metrics.splitlines() if line.startswith("mynacar_persons_applied_total{")]
    assert served == ['mynacar_persons_applied_total{channel="phone",district="takazaki"} 2.0'], served
    acknowledged = 'mynacar_notifications_total{channel="email",kind="acknowledgement",status="sent"}'
    assert wait_until(lambda: metrics_showing(stack, "notification", acknowledged))


def metrics_showing(stack, service: str, text: str) -> str | None:
    metrics = signed_in(stack).get(f"{stack.url(service)}/metrics", timeout=5).text
    return metrics if text in metrics else None


def test_no_personal_data_in_any_log_or_metric(story, stack):
    wait_until(lambda: len(mails(stack, "hanako@example.jp")) >= 3, timeout=30)
    for spec in SERVICES:
        log = stack.log_path(spec.name).read_text(encoding="utf-8")
        metrics = signed_in(stack).get(f"{stack.url(spec.name)}/metrics", timeout=5).text
        for secret in (*RESIDENT_SECRETS, "霧島", "関之尾", "09011112222"):
            assert secret not in log, f"{secret} in {spec.name}'s log"
            assert secret not in metrics


def conforms(schema_cls, answer, status=200):
    """The answer has the status and fits the schema documented in OpenAPI (no undocumented fields)."""
    assert answer.status_code == status, answer.text
    errors = schema_cls().validate(answer.json())
    assert not errors, errors


def test_answers_fit_the_documented_schemas(story, stack):
    from services.booking import api as booking_api
    from services.liaison import api as liaison_api
    from services.notification import api as notification_api
    from services.outreach import api as outreach_api
    from services.scheduling import api as scheduling_api
    from shared.openapi import Error, Health

    booking_id, visit_id = story["booking"]["booking_id"], story["visit"]["visit_id"]
    day, crew = story["offer"]["start"][:10], story["offer"]["crew_id"]
    b, s, n = stack.url("booking"), stack.url("scheduling"), stack.url("notification")
    conforms(booking_api.Booking, signed_in(stack).get(f"{b}/api/v1/bookings/{booking_id}", timeout=5))
    conforms(Error, signed_in(stack).post(f"{b}/api/v1/bookings", json={"consent": True}, timeout=5), 422)
    conforms(Error, signed_in(stack).get(f"{b}/api/v1/bookings/none", timeout=5), 404)
    conforms(
        scheduling_api.VisitList,
        signed_in(stack).get(f"{s}/api/v1/visits", params={"booking_id": booking_id}, timeout=5),
    )
    conforms(scheduling_api.Visit, signed_in(stack).get(f"{s}/api/v1/visits/{visit_id}", timeout=5))
    other_visit = visits_of(stack, story["other"]["booking_id"])[0]["visit_id"]
    conforms(
        scheduling_api.Suggestions, signed_in(stack).get(f"{s}/api/v1/visits/{other_visit}/suggestions", timeout=5)
    )
    conforms(scheduling_api.SlotConflict, story["clash"], 409)
    conforms(
        scheduling_api.SlotConflict, signed_in(stack).get(f"{s}/api/v1/visits/{visit_id}/suggestions", timeout=5), 409
    )
    conforms(scheduling_api.CrewList, signed_in(stack).get(f"{s}/api/v1/crews", timeout=5))
    conforms(scheduling_api.DaySheet, signed_in(stack).get(f"{s}/api/v1/crews/{crew}/days/{day}", timeout=5))
    conforms(
        notification_api.NotificationList,
        signed_in(stack).get(f"{n}/api/v1/notifications", params={"booking_id": booking_id}, timeout=5),
    )
    conforms(
        notification_api.CallTaskList, signed_in(stack).get(f"{n}/api/v1/call-tasks", params={"date": day}, timeout=5)
    )
    conforms(outreach_api.Funnel, signed_in(stack).get(f"{stack.url('outreach')}/api/v1/funnel", timeout=5))
    conforms(outreach_api.ChannelList, signed_in(stack).get(f"{stack.url('outreach')}/api/v1/channels", timeout=5))
    conforms(
        liaison_api.ReferralList,
        liaison(stack).get(f"{stack.url('liaison')}/api/v1/referrals", timeout=5),
    )
    conforms(liaison_api.ReferralAccepted, story["referral_answer"], 201)
    conforms(Health, signed_in(stack).get(f"{b}/health/ready", timeout=5))
    assert signed_in(stack).get(f"{b}/openapi.json", timeout=5).json()["info"]["title"] == "mynacar booking"


def test_a_cancelled_booking_cancels_its_visit_and_tells_the_resident(story, stack):
    # A booking of its own: the story's stay as the other tests read them, in any order.
    body = booking_body(channel="web", applicants=[applicant(4)], email="tadashi@example.jp")  # counts stay
    booked = signed_in(stack).post(f"{stack.url('booking')}/api/v1/bookings", json=body, timeout=10).json()
    wait_until(lambda: visits_of(stack, booked["booking_id"]))
    answer = signed_in(stack).post(
        f"{stack.url('booking')}/api/v1/bookings/{booked['booking_id']}/cancel",
        json={"reason": "resident_request"},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    wait_until(lambda: visits_of(stack, booked["booking_id"])[0]["status"] == "cancelled")
    [mail] = wait_until(lambda: [m for m in mails(stack, "tadashi@example.jp") if "取り消し" in m["Subject"]])
    assert booked["reference"] in mail.get_content()


def test_no_personal_data_in_plain_text_in_any_database(story, stack):
    """A dump of every collection of every service after the story: names, phones, e-mail and
    address lines appear only sealed."""
    import json

    import pymongo

    wait_until(lambda: len(mails(stack, "hanako@example.jp")) >= 3, timeout=30)
    client = pymongo.MongoClient(stack.database_uri, serverSelectionTimeoutMS=5000)
    dumped = {}
    for name in client.list_database_names():
        for collection in client[name].list_collection_names():
            dumped[f"{name}.{collection}"] = list(client[name][collection].find({}))
    assert any(name.endswith("booking.bookings") and docs for name, docs in dumped.items())
    text = json.dumps(dumped, ensure_ascii=False, default=str)
    for secret in (*RESIDENT_SECRETS, "霧島", "関之尾", "09011112222", "090-1111-2222", "1942-05-10"):
        assert secret not in text, secret


def test_the_audit_log_of_the_story_verifies_as_an_unbroken_chain(story, stack):
    """The staff reads of the story (the day sheet's contacts, the call list) are chained entries,
    and the operator's check, run as operators run it, finds the chain whole after the round trip
    through the real database protocol."""
    import subprocess
    import sys

    signed_in(stack).get(f"{stack.url('booking')}/api/v1/bookings/{story['booking']['booking_id']}", timeout=5)
    checked = subprocess.run(
        [sys.executable, "-m", "deploy.tools.audit", "verify"],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert int(checked.stdout.split()[0]) >= 1, checked.stdout


def report_from_events(messages: list[dict], months: list[str]) -> dict:
    """The progress report's cells worked out from the events on the bus alone, the way a person
    would count them: each booking's channel and district from its request, then every request,
    cancellation, recovered slot and visit in the month it happened (by event id, once each)."""
    from collections import Counter

    from shared.municipality import load
    from shared.workcalendar import working_days_between

    def day(moment: str) -> dt.date:
        return dt.datetime.fromisoformat(moment).astimezone(clock.JST).date()

    counted = (events.REQUEST_RECEIVED, events.REQUEST_CANCELLED, events.SLOT_FIXED, events.VISIT_DONE)
    once = {
        m["body"]["event_id"]: m["body"] for m in messages if m["body"].get("event_type") in {t.name for t in counted}
    }
    # Visits in the order they were made, so that the first one that met the household gives the wait.
    bodies = sorted(once.values(), key=lambda b: (b["payload"].get("date") or "", b["occurred_at"]))
    requests = {
        b["payload"]["booking_id"]: (b["payload"], day(b["occurred_at"]))
        for b in bodies
        if b["event_type"] == events.REQUEST_RECEIVED.name
    }
    cells: Counter = Counter()
    waits: dict[tuple, list[int]] = {}
    met = set()
    for body in bodies:
        payload, kind = body["payload"], body["event_type"]
        request, booked = requests[payload["booking_id"]]
        where = [("channel", request["channel"]), ("district", request["district"])]
        found = []
        if kind == events.REQUEST_RECEIVED.name:
            found = [("requests", booked, 1)]
        elif kind == events.REQUEST_CANCELLED.name:
            found = [("cancellations", day(body["occurred_at"]), 1)]
        elif kind == events.SLOT_FIXED.name and payload.get("recovered"):
            found = [("slots_recovered", day(body["occurred_at"]), 1)]
        elif kind == events.VISIT_DONE.name:
            visit_day = dt.date.fromisoformat(payload["date"])
            found = [("persons_applied", visit_day, payload["persons_applied"])]
            if payload["outcome"] in ("completed", "partial"):
                found.append(("visits", visit_day, 1))
                if payload["booking_id"] not in met and visit_day.strftime("%Y-%m") in months:
                    met.add(payload["booking_id"])
                    wait = working_days_between(booked, visit_day, load().calendar)
                    for place in where:
                        waits.setdefault((*place, visit_day.strftime("%Y-%m")), []).append(wait)
        for name, when, amount in found:
            if when.strftime("%Y-%m") in months:
                for place in where:
                    cells[(*place, when.strftime("%Y-%m"), name)] += amount
    return {"cells": cells, "waits": waits}


def test_the_report_equals_what_the_events_say_cell_by_cell(story, stack, bus):
    """Every count, median and longest wait of the report, per channel and per district and month,
    against the same worked out from the bus (this test runs last: the whole story is in)."""
    import statistics

    from shared.workcalendar import fiscal_year

    manager = signed_in(stack, "manager")
    names = ("requests", "visits", "persons_applied", "cancellations", "slots_recovered")

    def up_to() -> str:
        """This month, or the latest visit's if later in this 年度 (visits are recorded ahead of their day here)."""
        today = clock.today()
        done = [dt.date.fromisoformat(b["payload"]["date"]) for b in bus.of_type(events.VISIT_DONE.name)]
        latest = max([d for d in done if fiscal_year(d) == fiscal_year(today)] + [today])
        return latest.strftime("%Y-%m")

    def differences() -> list[str]:
        report = manager.get(f"{stack.url('outreach')}/api/v1/report", params={"to": up_to()}, timeout=10).json()
        expected = report_from_events(bus.drain(), [m["month"] for m in report["months"]])
        wrong = []
        for kind, key in (("channels", "channel"), ("districts", "district")):
            for part in report[kind]:
                for month in part["months"]:
                    for name in names:
                        want = expected["cells"].get((key, part[key], month["month"], name), 0)
                        if month[name] != want:
                            wrong.append(f"{part[key]} {month['month']} {name}: {month[name]} != {want}")
                    waits = expected["waits"].get((key, part[key], month["month"]), [])
                    want = (round(statistics.median(waits), 1), max(waits)) if waits else (None, None)
                    if (month["median_wait_days"], month["longest_wait_days"]) != want:
                        wrong.append(f"{part[key]} {month['month']} waits: {month['median_wait_days']} != {want}")
        if report["total"]["requests"] < 3:
            wrong.append(f"the story made at least 3 requests; the report has {report['total']['requests']}")
        return wrong

    wrong: list[str] = []

    def agrees() -> bool:
        wrong[:] = differences()
        return not wrong

    with contextlib.suppress(AssertionError):  # the events may still be on their way: wait, then say what differs
        wait_until(agrees, timeout=30)
    assert wrong == []
