"""`make bench`: the residents' pages under load: pages per second and p99 for the public form (a
question page, the whole booking submitted through the portal to booking) and the private-link
pages (the own page, 持ち物), with the rate limit off.

    python -m tests.bench.public_form

The whole stack runs as `make run` starts it. Each page is fetched REQUESTS times by CLIENTS
threads at once over loopback; the portal's /health/live under the same load is the baseline.
Results in var/bench-public-form.json."""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from deploy.local.stack import ROOT, Stack
from deploy.local.vhosts import throwaway_vhost

RESULTS = ROOT / "var" / "bench-public-form.json"
REQUESTS = 400
CLIENTS = 8
UNLIMITED = {"PUBLIC_RATE_LIMIT": "1000000/second", "SELF_RATE_LIMIT": "1000000/second", "LOG_LEVEL": "WARNING"}
ANSWERS = {"postal_code": "885-0021", "reasons": "elderly", "parking": "yes", "moving": "no"}

_local = threading.local()


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def household(n: int) -> dict:
    return {
        **ANSWERS,
        "step": "household",
        "action": "save",
        "applicant_count": "1",
        "a0_family_name": "都城",
        "a0_given_name": "花子",
        "a0_family_name_kana": "ミヤコノジョウ",
        "a0_given_name_kana": "ハナコ",
        "a0_birth_date": "昭和16年4月12日",
        "phone": f"0986-40-{n % 10000:04d}",
        "postal_code": "885-0021",
        "district": "takazaki",
        "address_line": "高崎町大牟田 1234",
        "email": "",
        "needs": "",
        "consent": "yes",
        "website": "",
    }


def load(call: Callable[[int], requests.Response], expected: int) -> dict:
    """REQUESTS calls by CLIENTS threads: pages per second and the latency percentiles."""

    def timed(n: int) -> float:
        started = time.perf_counter()
        answer = call(n)
        assert answer.status_code == expected, (answer.status_code, answer.text[:200])
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        samples = sorted(pool.map(timed, range(REQUESTS)))
    elapsed = time.perf_counter() - started
    return {
        "pages_per_second": round(REQUESTS / elapsed, 1),
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 1),
    }


def main() -> None:
    with throwaway_vhost() as amqp_uri, tempfile.TemporaryDirectory() as var:
        stack = Stack(
            amqp_uri=amqp_uri,
            port_offset=24000,
            smtp_port=34025,
            mongo_port=34018,
            var_dir=Path(var),
            extra_env=UNLIMITED,
        )
        stack.start()
        try:
            portal = stack.url("portal")
            first = session().post(f"{portal}/apply", data=household(0), allow_redirects=False)
            assert first.status_code == 303, first.text[:300]
            own = first.headers["Location"].split("?")[0]
            pages = {
                "baseline: /health/live": (lambda n: session().get(f"{portal}/health/live"), 200),
                "first page (/)": (lambda n: session().get(f"{portal}/"), 200),
                "a question (POST /apply)": (
                    lambda n: session().post(f"{portal}/apply", data={**ANSWERS, "step": "parking"}),
                    200,
                ),
                "booking submitted (household)": (
                    lambda n: session().post(f"{portal}/apply", data=household(n + 1), allow_redirects=False),
                    303,
                ),
                "own page (/my/<token>)": (lambda n: session().get(f"{portal}{own}"), 200),
                "what to prepare (持ち物)": (lambda n: session().get(f"{portal}{own}/prepare"), 200),
            }
            measured = {name: load(call, expected) for name, (call, expected) in pages.items()}
        finally:
            stack.stop()
    baseline = measured["baseline: /health/live"]
    for row in measured.values():
        row["p99_vs_health"] = round(row["p99_ms"] / max(baseline["p99_ms"], 0.01), 1)
    results = {"requests_per_page": REQUESTS, "clients": CLIENTS, "pages": measured}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"residents' pages, {REQUESTS} requests by {CLIENTS} clients each, rate limit off:")
    print(f"{'page':34} {'pages/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'x health':>8}")
    for name, row in measured.items():
        print(f"{name:34} {row['pages_per_second']:8} {row['p50_ms']:7} {row['p99_ms']:7} {row['p99_vs_health']:8}")
    print(f"(results in {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
