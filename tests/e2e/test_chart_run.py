"""The chart's wiring, proven without a cluster: render the chart with local values, start every
Deployment's container command with the environment the chart gives it, wait for the readiness
probes the chart declares, then let a real Prometheus scrape them and see a booking arrive."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import requests
import yaml

from deploy.chart import VALUES_DIR, load_values, merge, render_manifests
from deploy.local.chart_run import ROOT, Workload, process_env, workloads
from deploy.local.stack import Stack, port_open
from deploy.services import SERVICES
from tests.factories import booking_body

pytestmark = pytest.mark.e2e

PROMETHEUS_PORT = 29090
SMTP_PORT = 26025
MONGO_PORT = 26018


def get(url: str, timeout: float = 2) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise TimeoutError(what)


@pytest.fixture(scope="module")
def chart_values():
    overrides = {"config": {"smtp": {"host": "127.0.0.1", "port": SMTP_PORT}}}
    return merge(load_values(VALUES_DIR / "local.yaml"), overrides)


@pytest.fixture(scope="module")
def chart_stack(vhost_uri, chart_values, tmp_path_factory):
    """The mongo stand-in and the mail sink from the local stack; the services from the chart."""
    var = tmp_path_factory.mktemp("chart-run")
    stack = Stack(amqp_uri=vhost_uri, smtp_port=SMTP_PORT, mongo_port=MONGO_PORT, var_dir=var)
    # Booking's public key for the channels, from the local data keys (deploy.tools.referral_key).
    objects = render_manifests(
        merge(chart_values, {"referralKey": {"public": stack.auth.referral_public_key_path.read_text()}})
    )
    stack.create_broker_identities()  # one Secret per service's own broker identity, as in production
    secrets = {
        **{("mynacar-rabbitmq-" + name, "connection_string"): uri for name, uri in stack.service_amqp_uris.items()},
        ("mynacar-data-keys", "data-keys.json"): stack.auth.data_keys_path.read_text(),
        ("mynacar-data-keys-liaison", "data-keys.json"): stack.auth.channel_keys_path("liaison").read_text(),
        ("mynacar-service-keys", "public.json"): stack.auth.service_keys_path.read_text(),
        ("mynacar-service-keys", "notification.pem"): stack.auth.service_key_path("notification").read_text(),
        # The stand-in has no users: every service's own Secret names the same database server.
        **{("mynacar-mongodb-" + s.name, "connectionString.standard"): stack.database_uri for s in SERVICES},
        ("mynacar-portal-oidc", "client-secret"): stack.auth.client_secret_path.read_text(),
    }
    running = workloads(objects, secrets)
    try:
        stack.start_database()
        stack.start_mail_sink()
        for workload in running:
            stack.spawn(workload.name, workload.command, process_env(workload))
        yield stack, running, objects
    finally:
        stack.stop()


def test_every_deployment_becomes_ready_on_the_port_its_probe_declares(chart_stack):
    stack, running, _ = chart_stack
    assert sorted(w.name for w in running) == sorted(spec.name for spec in SERVICES)
    for workload in running:
        assert workload.command == ["python", "-m", "deploy.serve", workload.name]
        assert workload.port == 8000
    deadline = time.monotonic() + 90
    waiting = list(running)
    while waiting:
        for name, process in stack.processes.items():
            assert process.poll() is None, f"{name} exited; see {stack.log_path(name)}"
        waiting = [w for w in waiting if get(w.url + w.readiness_path)[0] != 200]
        assert time.monotonic() < deadline, f"not ready: {[w.name for w in waiting]}"
        time.sleep(0.5)
    for workload in running:
        assert get(workload.url + workload.liveness_path)[0] == 200


def test_promtool_finds_nothing_to_fix_in_any_service_metrics(chart_stack):
    _, running, _ = chart_stack
    for workload in running:
        status, text = get(workload.url + "/metrics")
        assert status == 200 and "mynacar_entrypoint_duration_seconds" in text
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert lint.returncode == 0, f"{workload.name}: {lint.stdout}{lint.stderr}"


def test_the_keda_queues_in_the_chart_are_the_queues_the_services_consume(chart_stack, chart_values):
    """A ScaledObject on a queue nobody consumes would never scale: compare the chart's generated
    list (files/services.json) with the queues each running service reports."""
    _, running, _ = chart_stack
    facts = json.loads((ROOT / "charts/mynacar/files/services.json").read_text())
    for workload in running:
        declared = facts[workload.name]["keda"]["queues"]
        if not declared:
            assert workload.name == "portal"  # it consumes no queue: nothing to scale on
            continue

        def reported(workload: Workload = workload) -> set[str]:
            _, text = get(workload.url + "/metrics")
            return {line.split('queue="')[1].split('"')[0] for line in text.splitlines() if "queue_messages{" in line}

        queues = wait_for(reported, 30, f"{workload.name} reports no queue depths")
        consumed = {q for q in queues if not q.endswith(".dead")}
        assert set(declared) == consumed, (workload.name, set(declared) ^ consumed)


@pytest.fixture(scope="module")
def prometheus(chart_stack, tmp_path_factory):
    stack, running, _ = chart_stack
    assert shutil.which("prometheus"), "`make test` installs Debian's prometheus (deploy/local/ensure-prometheus.sh)"
    if port_open("127.0.0.1", PROMETHEUS_PORT):
        pytest.fail(f"port {PROMETHEUS_PORT} is taken")
    home = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        # job = the service, as the ServiceMonitor's jobLabel gives it in a cluster
        "scrape_configs": [
            {"job_name": w.name, "static_configs": [{"targets": [f"{w.host}:{w.port}"]}]} for w in running
        ],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    check = subprocess.run(["promtool", "check", "config", str(home / "prometheus.yml")], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    stack.spawn(
        "prometheus",
        [
            "prometheus",
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
        ],
        {"PATH": "/usr/bin:/bin"},
    )
    base = f"http://127.0.0.1:{PROMETHEUS_PORT}"
    wait_for(lambda: get(base + "/-/ready")[0] == 200, 30, "prometheus not ready")
    return base


def query(base: str, promql: str) -> list[dict]:
    status, body = get(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}")
    assert status == 200, body
    return json.loads(body)["data"]["result"]


def test_prometheus_scrapes_every_service_and_sees_a_booking_arrive(chart_stack, prometheus):
    _, running, _ = chart_stack
    up = wait_for(
        lambda: (r := query(prometheus, "up == 1")) and len(r) == len(running) and r, 30, "not every target is up"
    )
    assert {s["metric"]["job"] for s in up} == {w.name for w in running}

    def bookings() -> float:
        result = query(prometheus, "sum(mynacar_bookings_received_total)")
        return float(result[0]["value"][1]) if result else 0.0

    before = bookings()
    booking = next(w for w in running if w.name == "booking")
    answer = requests.post(f"{booking.url}/api/v1/bookings", json=booking_body(channel="web"), timeout=10)
    assert answer.status_code == 201, answer.text
    assert wait_for(lambda: bookings() >= before + 1, 30, "the booking never reached Prometheus")

    # ... and the pipeline behind it: scheduling made the visit (its gauge, scraped too)
    waiting = wait_for(
        lambda: (r := query(prometheus, "mynacar_visits_unscheduled{job='scheduling'} >= 1")) and r,
        45,
        "scheduling never reported the waiting visit",
    )
    assert float(waiting[0]["value"][1]) >= 1
