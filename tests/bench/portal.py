"""`make bench`: how fast the staff screens answer and how much each page weighs.

    python -m tests.bench.portal

The whole stack runs as `make run` starts it. Reception and a crew member sign in through the
development OpenID provider; twenty households are booked and ten fixed on one crew day. Each page
is then fetched REQUESTS times in a row over loopback, and its p50 and p95 are reported, with the
portal's own /health/live (no template, no backend call) measured in the same run as the baseline.
The target is p95 under 150 ms and a page under 150 KB with its CSS and script.
Results in var/bench-portal.json."""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

from deploy.local.stack import ROOT, Stack
from deploy.local.vhosts import throwaway_vhost
from tests.bus import wait_until
from tests.factories import applicant, booking_body

RESULTS = ROOT / "var" / "bench-portal.json"
REQUESTS = 200
HOUSEHOLDS = 20
P95_TARGET_MS, WEIGHT_TARGET_KB = 150, 150


def sign_in(stack: Stack, subject: str) -> requests.Session:
    """The OpenID Connect flow as a browser goes through it (the session cookie is Secure, so it is
    carried by hand over plain-HTTP loopback)."""
    browser = requests.Session()
    start = browser.get(f"{stack.url('portal')}/signin", allow_redirects=False)
    chosen = browser.post(start.headers["Location"], data={"subject": subject}, allow_redirects=False)
    back = browser.get(chosen.headers["Location"], allow_redirects=False)
    session = requests.Session()
    session.headers["Cookie"] = back.headers["Set-Cookie"].split(";")[0]
    return session


def seed(stack: Stack, reception: requests.Session) -> tuple[str, str]:
    """HOUSEHOLDS bookings; half fixed on the first day with room. Returns an unscheduled booking's
    id and the crew day."""
    office = requests.Session()
    office.headers["Authorization"] = f"Bearer {stack.auth.token(['reception', 'manager'])}"
    ids = []
    for n in range(HOUSEHOLDS):
        body = booking_body(phone=f"0986-30-{n:04d}", applicants=[applicant(0), applicant(1, "2013-06-01")])
        ids.append(office.post(f"{stack.url('booking')}/api/v1/bookings", json=body).json()["booking_id"])
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    day = ""
    for booking_id in ids[: HOUSEHOLDS // 2]:
        [visit] = wait_until(lambda b=booking_id: office.get(visits, params={"booking_id": b}).json()["visits"])
        for offer in office.get(f"{visits}/{visit['visit_id']}/suggestions").json()["suggestions"]:
            if day and not offer["start"].startswith(day):
                continue
            fixed = office.post(
                f"{visits}/{visit['visit_id']}/slot", json={"crew_id": "crew-1", "start": offer["start"]}
            )
            if fixed.status_code == 200:
                day = day or offer["start"][:10]
                break
    wait_until(lambda: office.get(visits, params={"booking_id": ids[-1]}).json()["visits"])
    return ids[-1], day


def timings(session: requests.Session, url: str) -> dict:
    samples, size = [], 0
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = session.get(url, allow_redirects=False)
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
        size = len(answer.content)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
        "html_kb": round(size / 1024, 1),
        "body": answer.text,
    }


def assets_kb(session: requests.Session, base: str, html: str) -> float:
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    return sum(len(session.get(urljoin(base, link)).content) for link in set(links)) / 1024


def main() -> None:
    with throwaway_vhost() as amqp_uri, tempfile.TemporaryDirectory() as var:
        stack = Stack(
            amqp_uri=amqp_uri,
            port_offset=23000,
            smtp_port=32025,
            mongo_port=32018,
            var_dir=Path(var),
            extra_env={"LOG_LEVEL": "WARNING"},
        )
        stack.start()
        try:
            portal = stack.url("portal")
            reception, crew = sign_in(stack, "demo-reception"), sign_in(stack, "demo-crew-1")
            waiting_booking, day = seed(stack, reception)
            pages = {
                "menu": (reception, "/staff"),
                "phone search": (reception, "/reception/phone"),
                "household form": (reception, "/reception/bookings/new"),
                "offers (5 from the optimiser)": (reception, f"/reception/bookings/{waiting_booking}/offers"),
                "waiting list": (reception, "/reception/waiting"),
                "crew day sheet": (crew, f"/crew/day?date={day}"),
            }
            baseline = timings(requests.Session(), f"{portal}/health/live")
            measured = {}
            for name, (session, path) in pages.items():
                result = timings(session, f"{portal}{path}")
                weight = result["html_kb"] + assets_kb(session, portal, result.pop("body"))
                measured[name] = {
                    **result,
                    "page_kb_with_assets": round(weight, 1),
                    "p95_vs_health": round(result["p95_ms"] / max(baseline["p95_ms"], 0.01), 1),
                }
            stops = crew.get(f"{portal}/crew/day?date={day}").text.count('class="stop"')
        finally:
            stack.stop()
    baseline.pop("body")
    results = {
        "requests_per_page": REQUESTS,
        "baseline_health_live": baseline,
        "day_sheet_stops": stops,
        "pages": measured,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"portal pages, {REQUESTS} requests each (baseline /health/live p95 {baseline['p95_ms']} ms):")
    print(f"{'page':34} {'p50 ms':>7} {'p95 ms':>7} {'x health':>8} {'KB':>6}")
    for name, row in measured.items():
        flag = (
            "" if row["p95_ms"] < P95_TARGET_MS and row["page_kb_with_assets"] < WEIGHT_TARGET_KB else "  over target"
        )
        print(
            f"{name:34} {row['p50_ms']:7} {row['p95_ms']:7} {row['p95_vs_health']:8} "
            f"{row['page_kb_with_assets']:6}{flag}"
        )
    print(f"(day sheet with {stops} stops; results in {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
