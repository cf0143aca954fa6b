"""Every route each running service documents in its OpenAPI, walked with no token, a wrong role
and each right role: the document's `x-roles` is what the services enforce."""

import requests

from deploy.local.stack import SERVICES
from shared.auth import ROLES
from tests.bus import wait_until
from tests.factories import booking_body, staff_session, working_day

PATH_VALUES = {"crew_id": "crew-1", "day": working_day(2).isoformat()}
SCOPES = {"crew_id": "crew-1", "liaison_id": "hall-shonai-3"}


def routes(stack):
    for spec in SERVICES:
        document = requests.get(f"{stack.url(spec.name)}/openapi.json", timeout=5).json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                url = stack.url(spec.name) + path.format_map(_Values())
                yield spec.name, method.upper(), path, url, operation


class _Values(dict):
    def __missing__(self, key):
        return PATH_VALUES.get(key, "no-such-id")


def resident_session(stack) -> requests.Session:
    """A resident holding the private link of a booking just made (what their e-mail carries)."""
    booked = staff_session(stack, "reception").post(
        f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-29-1111"), timeout=10
    )
    assert booked.status_code == 201, booked.text
    session = requests.Session()
    session.headers["Authorization"] = f"BookingLink {booked.json()['link']['token']}"
    return session


def is_residents(operation: dict) -> bool:
    return operation.get("security") == [{"bookingLink": []}]


def call(session, method, url):
    if method == "POST":
        return session.post(url, json={}, timeout=120)
    return session.get(url, timeout=30)


def test_every_documented_route_admits_exactly_its_roles(stack):
    anonymous, resident = requests.Session(), resident_session(stack)
    checked, residents = [], []
    for service, method, path, url, operation in routes(stack):
        roles = operation.get("x-roles", [])
        assert ("security" in operation) and (operation["security"] == [] or roles or is_residents(operation)), (
            f"{service} {method} {path}"
        )
        if is_residents(operation):
            # A resident's own booking: the link opens it; no link, or a staff token instead, does not.
            refused = call(anonymous, method, url)
            assert refused.status_code == 401, f"{method} {path} without a link: {refused.status_code}"
            assert refused.headers["WWW-Authenticate"].startswith("BookingLink")
            assert call(staff_session(stack, "reception"), method, url).status_code == 401
            answer = call(resident, method, url)
            assert answer.status_code not in (401, 403, 500), f"{method} {path} with the link: {answer.text}"
            residents.append(path)
            continue
        if not roles:
            answer = call(anonymous, method, url)
            assert answer.status_code not in (401, 403), f"open route {method} {path} refused: {answer.text}"
            continue
        refused = call(anonymous, method, url)
        assert refused.status_code == 401, f"{method} {path} without a token: {refused.status_code}"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = next(role for role in ROLES if role not in roles)
        answer = call(staff_session(stack, wrong, **SCOPES), method, url)
        assert answer.status_code == 403, f"{method} {path} as {wrong}: {answer.status_code}"
        for role in roles:
            answer = call(staff_session(stack, role, **SCOPES), method, url)
            assert answer.status_code not in (401, 403, 500), f"{method} {path} as {role}: {answer.text}"
        checked.append((service, method, path))
    assert len(checked) >= 18  # every staff route of the five services
    assert sorted(residents) == [
        "/api/v1/self",
        "/api/v1/self/cancel",
        "/api/v1/self/dates",
        "/api/v1/self/offers",
        "/api/v1/self/slot",
    ]


def test_a_crew_reads_its_own_day_and_not_another_crews(stack):
    day = PATH_VALUES["day"]
    sheet = f"{stack.url('scheduling')}/api/v1/crews/crew-1/days/{day}"
    calls = f"{stack.url('notification')}/api/v1/call-tasks"
    own, other = staff_session(stack, "crew", crew_id="crew-1"), staff_session(stack, "crew", crew_id="crew-2")
    assert own.get(sheet, timeout=30).status_code == 200
    assert other.get(sheet, timeout=30).status_code == 403
    assert own.get(calls, params={"date": day}, timeout=30).status_code == 200
    assert other.get(calls, params={"date": day, "crew_id": "crew-1"}, timeout=30).status_code == 403


def test_a_liaison_reads_its_own_referrals_and_not_anothers(stack):
    url = f"{stack.url('liaison')}/api/v1/referrals"
    liaison = staff_session(stack, "liaison", liaison_id="hall-a")
    assert liaison.get(url, timeout=10).status_code == 200
    assert liaison.get(url, params={"liaison_id": "hall-b"}, timeout=10).status_code == 403
    assert staff_session(stack, "manager").get(url, params={"liaison_id": "hall-b"}, timeout=10).status_code == 200


def body_fields(document: dict, operation: dict) -> list[str]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return sorted(document["components"]["schemas"][name]["properties"])


def real_ids(stack) -> dict[str, str]:
    """Ids of objects that exist, for every path parameter the documents use: a booking, its visit
    (fixed, so a call task exists), a message to the resident, a batch plan."""
    office = staff_session(stack, "reception")
    booked = office.post(
        f"{stack.url('booking')}/api/v1/bookings", json=booking_body(phone="0986-29-3333", email=None), timeout=10
    ).json()
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    [visit] = wait_until(
        lambda: office.get(visits, params={"booking_id": booked["booking_id"]}, timeout=10).json()["visits"]
    )
    offer = office.get(f"{visits}/{visit['visit_id']}/suggestions", timeout=30).json()["suggestions"][0]
    fixed = office.post(
        f"{visits}/{visit['visit_id']}/slot", json={"crew_id": "crew-1", "start": offer["start"]}, timeout=30
    )
    assert fixed.status_code == 200, fixed.text
    notifications = f"{stack.url('notification')}/api/v1/notifications"
    [message, *_] = wait_until(
        lambda: office.get(notifications, params={"booking_id": booked["booking_id"]}, timeout=10).json()[
            "notifications"
        ]
    )
    day = offer["start"][:10]
    tasks = f"{stack.url('notification')}/api/v1/call-tasks"
    [task] = wait_until(
        lambda: [
            t
            for t in office.get(tasks, params={"date": day}, timeout=10).json()["call_tasks"]
            if t["booking_id"] == booked["booking_id"]
        ]
    )
    plan = office.post(f"{stack.url('scheduling')}/api/v1/plans", json={"days": 3}, timeout=60).json()
    return {
        "booking_id": booked["booking_id"],
        "visit_id": visit["visit_id"],
        "message_id": message["message_id"],
        "task_id": task["task_id"],
        "plan_id": plan["plan_id"],
        "crew_id": "crew-1",
        "day": day,
        # Closing a short referral reads its body before looking the referral up.
        "referral_id": "no-such-referral",
    }


def test_an_operator_in_any_body_field_of_any_service_is_a_422(stack):
    """Every body field of every POST, on objects that exist (a 404 would skip the body)."""
    tried, resident, ids = 0, resident_session(stack), real_ids(stack)
    for spec in SERVICES:
        document = requests.get(f"{stack.url(spec.name)}/openapi.json", timeout=5).json()
        for path, operations in document["paths"].items():
            operation = operations.get("post")
            if not operation or "requestBody" not in operation:
                continue
            roles = operation.get("x-roles") or ["reception"]
            session = resident if is_residents(operation) else staff_session(stack, roles[0], **SCOPES)
            url = stack.url(spec.name) + path.format_map(ids)
            for field in body_fields(document, operation):
                for hostile in ({"$ne": None}, {"$gt": ""}, [{"$where": "1"}]):
                    answer = session.post(url, json={field: hostile}, timeout=30)
                    assert answer.status_code == 422, f"{spec.name} {path} {field}={hostile}: {answer.text}"
                    assert any(e["field"].split(".")[0] == field for e in answer.json()["fields"])
                    tried += 1
            answer = session.post(url, json={"$where": "sleep(1000)", "a.b": 1}, timeout=30)
            assert answer.status_code == 422, f"{spec.name} {path}: {answer.text}"
    assert tried >= 30
