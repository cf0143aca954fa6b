"""The database away: booking answers 503 with Retry-After (never 500), says it is not ready, and
takes bookings again once the database is back, without a restart. Real processes: the booking
service as `make run` starts it, and the MongoDB stand-in server, stopped and started again."""

import pytest
import requests

from deploy.local.stack import Stack
from tests.bus import wait_until
from tests.factories import booking_body


@pytest.fixture(scope="module")
def booking_alone(vhost_uri, tmp_path_factory):
    stack = Stack(
        amqp_uri=vhost_uri, port_offset=4000, smtp_port=12025, mongo_port=12018, var_dir=tmp_path_factory.mktemp("var")
    )
    try:
        stack.start_database()
        stack.start_service(stack.spec("booking"))
        stack.wait_ready(60, (stack.spec("booking"),))
        yield stack
    finally:
        stack.stop()


def post(stack: Stack) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.auth.token('reception')}"}
    return requests.post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(), headers=headers, timeout=30)


def readiness(stack: Stack) -> tuple[int, dict]:
    answer = requests.get(f"{stack.url('booking')}/health/ready", timeout=30)
    return answer.status_code, answer.json()["checks"]


def test_while_the_database_is_away_bookings_get_503_and_are_taken_again_once_it_is_back(booking_alone):
    stack = booking_alone
    assert post(stack).status_code == 201
    stack.stop_process("mongodb")

    refused = post(stack)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.json()
    assert body["error"] == "temporarily_unavailable" and body["message"]["ja"] and body["message"]["en"]
    status, checks = readiness(stack)
    assert status == 503 and checks["database"] is False

    stack.start_database()
    wait_until(lambda: readiness(stack)[0] == 200, timeout=30)
    accepted = post(stack)
    assert accepted.status_code == 201 and accepted.json()["reference"]
