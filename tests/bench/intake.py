"""`make bench`: what the safety costs. One run measures, on this machine:

(a) the baseline: a bare nameko @http POST that validates with marshmallow and dispatches one event;
(b) our booking intake: validate, store with the outbox, publish from the relay, answer 201 (the
    database is the MongoDB stand-in server, reached by pymongo over a socket as in production);
(c) the pipeline from intake to the acknowledgement recorded by notification (e-mail over SMTP).

(a) and (b) run under the same load: wrk, one thread, 10 connections, BENCH_SECONDS each. (c) runs
the whole stack as `make run` does and offers it, open loop, half of the rate (b) reached, for
BENCH_SECONDS: it is sustained when acknowledgements keep pace and the backlog does not grow. It
also reports the CPU each process spent per booking, which says what limits the pipeline.
Ratios are against the same run's figures: (a) and (b) alternate BENCH_ROUNDS times and each
ratio is the median of the rounds'.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from deploy.local.devauth import DevKeys
from deploy.local.stack import ROOT, Stack, port_open
from deploy.local.vhosts import throwaway_vhost
from deploy.serve import CONFIG
from tests.bench.cpu import CpuMeter, broker_pid
from tests.bench.paced import PacedLoad
from tests.factories import booking_body

SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
# (a) and (b) alternate this many times; ratios are the median of the rounds', so that the machine's
# drift during a run (±10% here) falls on both sides of each ratio.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# wrk is one anonymous client: the web form's per-client limit is still counted on every request,
# but set out of reach so the benchmark measures the intake rather than 429s.
UNLIMITED = {"PUBLIC_RATE_LIMIT": "1000000/second"}
# The development keys (var/auth): booking seals every household it stores.
KEYS = DevKeys(ROOT / "var" / "auth")
CONNECTIONS = 10
RESULTS = ROOT / "var" / "bench.json"

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


def wrk(url: str, seconds: int) -> dict:
    """Runs wrk and returns requests/s, latency percentiles (ms) and the count of non-2xx answers."""
    body = json.dumps(booking_body(channel="web"), ensure_ascii=False)  # the public door
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(LUA % body)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    requests_total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": requests_total,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def start_service(target: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), target],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
            "LOG_LEVEL": "WARNING",
            **UNLIMITED,
            **KEYS.ensure().env(),
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{target} did not start")
        time.sleep(0.2)
    return process


def metric(url: str, name: str, labels: str = "") -> float:
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    pattern = (
        rf"^{re.escape(name)}{{[^}}]*{re.escape(labels)}[^}}]*}} ([\d.e+]+)$" if labels else rf"^{name} ([\d.e+]+)$"
    )
    return sum(float(v) for v in re.findall(pattern, text, re.M))


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def bench_bare(amqp_uri: str) -> dict:
    process = start_service("tests.bench.bare_service:BareIntake", 18901, {"AMQP_URI": amqp_uri})
    try:
        wrk("http://127.0.0.1:18901/bare", 3)  # warm-up
        return wrk("http://127.0.0.1:18901/bare", SECONDS)
    finally:
        stop(process)


def bench_intake(amqp_uri: str) -> dict:
    database = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.mongo_standin", "--port", "18917"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not port_open("127.0.0.1", 18917):
        time.sleep(0.1)
    uri = "mongodb://127.0.0.1:18917/?directConnection=true"
    process = start_service(
        "services.booking.service:BookingService", 18902, {"MONGODB_URI": uri, "AMQP_URI": amqp_uri}
    )
    try:
        wrk("http://127.0.0.1:18902/api/v1/bookings", 3)
        result = wrk("http://127.0.0.1:18902/api/v1/bookings", SECONDS)
        deadline = time.monotonic() + 120
        while metric("http://127.0.0.1:18902", "mynacar_outbox_pending_events") > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        result["outbox_drained"] = metric("http://127.0.0.1:18902", "mynacar_outbox_pending_events") == 0
        return result
    finally:
        stop(process)
        stop(database)


def acknowledgements(notification_url: str) -> float:
    return metric(notification_url, "mynacar_notifications_total", 'kind="acknowledgement"')


def wait_for_acknowledgements(notification_url: str, count: float, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while acknowledgements(notification_url) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    return acknowledgements(notification_url)


def bench_pipeline(amqp_uri: str, rate: float) -> dict:
    """Offers `rate` bookings/s to the whole stack; samples the backlog (accepted but not yet
    acknowledged) every second; then waits for it to drain."""
    body = json.dumps(booking_body(channel="web"), ensure_ascii=False).encode()  # the public door
    with tempfile.TemporaryDirectory() as var:
        stack = Stack(
            amqp_uri=amqp_uri,
            port_offset=22000,
            smtp_port=31025,
            mongo_port=31018,
            var_dir=Path(var),
            extra_env={"LOG_LEVEL": "WARNING", **UNLIMITED},
        )
        stack.start()
        try:
            url, notification = f"{stack.url('booking')}/api/v1/bookings", stack.url("notification")
            warm_up = PacedLoad(url, body, rate, 2)  # connections, caches, first plans
            warm_up.run()
            base = wait_for_acknowledgements(notification, warm_up.accepted)
            pids = {name: process.pid for name, process in stack.processes.items()}
            pids["rabbitmq"] = broker_pid() or 0
            meter = CpuMeter(pids)
            load = PacedLoad(url, body, rate, SECONDS)
            sender = threading.Thread(target=load.run)
            meter.start()
            started = time.monotonic()
            sender.start()
            samples = []  # (seconds, accepted, acknowledged)
            while sender.is_alive():
                sender.join(1.0)
                samples.append((time.monotonic() - started, load.accepted, acknowledgements(notification) - base))
            load_seconds = time.monotonic() - started
            done = wait_for_acknowledgements(notification, base + load.accepted) - base
            drain_seconds = time.monotonic() - started - load_seconds
            cpu = meter.spent()
        finally:
            stack.stop()
    mid = min(samples, key=lambda sample: abs(sample[0] - load_seconds / 2))
    end = samples[-1]
    backlog_mid, backlog_end = mid[1] - mid[2], end[1] - end[2]
    acked_rps = (end[2] - mid[2]) / (end[0] - mid[0])
    cpu_ms = {name: round(seconds / max(load.accepted, 1) * 1000, 2) for name, seconds in cpu.items()}
    total_ms = sum(cpu_ms.values())
    return {
        "offered_rps": round(rate, 1),
        "accepted": load.accepted,
        "refused": load.refused,
        "late_sends": load.late,
        "load_seconds": round(load_seconds, 1),
        "intake_rps": round(load.accepted / load_seconds, 1),
        "acknowledged": int(done),
        "rps": round(acked_rps, 1),
        "backlog_mid": backlog_mid,
        "backlog_end": backlog_end,
        # Growing: the backlog rose by more than a second's worth of bookings in the second half.
        "sustained": backlog_end - backlog_mid <= rate
        and acked_rps >= 0.9 * rate
        and load.accepted / load_seconds >= 0.9 * rate,
        "drain_seconds": round(drain_seconds, 1),
        "cpu_ms_per_booking": cpu_ms,
        "cpu_ms_per_booking_total": round(total_ms, 1),
        "capacity_rps_estimate": round((os.cpu_count() or 1) * 1000 / total_ms, 1) if total_ms else None,
    }


def main() -> None:
    results: dict = {"seconds": SECONDS, "connections": CONNECTIONS, "cores": os.cpu_count(), "rounds": []}
    for _ in range(ROUNDS):
        round_ = {}
        for key, bench in (("a_bare", bench_bare), ("b_intake", bench_intake)):
            with throwaway_vhost() as amqp_uri:
                round_[key] = bench(amqp_uri)
        results["rounds"].append(round_)
    for key in ("a_bare", "b_intake"):  # the median of each figure over the rounds
        rows = [round_[key] for round_ in results["rounds"]]
        results[key] = {
            field: all(row[field] for row in rows)
            if isinstance(rows[0][field], bool)
            else statistics.median(row[field] for row in rows)
            for field in rows[0]
        }
    with throwaway_vhost() as amqp_uri:
        results["c_pipeline"] = bench_pipeline(amqp_uri, rate=results["b_intake"]["rps"] / 2)
    if not results["c_pipeline"]["sustained"]:
        # Then what it does sustain: 80% of the rate its CPU cost per booking allows.
        with throwaway_vhost() as amqp_uri:
            rate = 0.8 * results["c_pipeline"]["capacity_rps_estimate"]
            results["c_sustainable"] = bench_pipeline(amqp_uri, rate=rate)
    a, b, c = results["a_bare"], results["b_intake"], results["c_pipeline"]
    rounds = results["rounds"]
    results["ratios"] = {
        "b_over_a_throughput": round(statistics.median(r["b_intake"]["rps"] / r["a_bare"]["rps"] for r in rounds), 2),
        "b_over_a_p99": round(statistics.median(r["b_intake"]["p99_ms"] / r["a_bare"]["p99_ms"] for r in rounds), 2),
        "c_over_b_throughput": round(c["rps"] / b["rps"], 2),
    }
    if "c_sustainable" in results:
        lower = results["c_sustainable"]
        results["ratios"]["c_sustained_over_b"] = round(lower["rps"] / b["rps"], 2) if lower["sustained"] else None
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"median of {ROUNDS} alternating rounds of (a) and (b):")
    print(f"{'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for name, row in (("(a) bare nameko POST + dispatch", a), ("(b) booking intake with outbox", b)):
        print(f"{name:34}{row['rps']:>9.0f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}{row['non_2xx']:>9}")
    for label, row in (("(c)", c), ("(c) at 80% of its CPU-bound rate", results.get("c_sustainable"))):
        if row is None:
            continue
        verdict = "sustained" if row["sustained"] else "NOT sustained"
        print(
            f"{label} intake to acknowledgement, offered {row['offered_rps']}/s: {row['accepted']} accepted in "
            f"{row['load_seconds']} s ({row['intake_rps']}/s), acknowledged at {row['rps']}/s in the second half, "
            f"backlog {row['backlog_mid']} -> {row['backlog_end']}: {verdict}; drained {row['drain_seconds']} s after"
        )
    cpu = ", ".join(f"{name} {ms}" for name, ms in sorted(c["cpu_ms_per_booking"].items(), key=lambda kv: -kv[1]))
    print(
        f"    CPU ms per booking: {cpu}; total {c['cpu_ms_per_booking_total']} "
        f"(on {results['cores']} cores: about {c['capacity_rps_estimate']} bookings/s at most)"
    )
    ratios = results["ratios"]
    print(
        f"ratios: b/a throughput {ratios['b_over_a_throughput']}, b/a p99 {ratios['b_over_a_p99']}, "
        f"c/b throughput {ratios['c_over_b_throughput']}, sustained c/b {ratios.get('c_sustained_over_b')}; "
        f"details in {RESULTS}"
    )


if __name__ == "__main__":
    main()
