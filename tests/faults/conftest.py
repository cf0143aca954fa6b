import json
import os
import subprocess
from urllib.parse import urlparse

import pytest
import yaml

from deploy.local.stack import Stack, port_open
from shared import settings
from tests.bus import wait_until
from tests.faults.harness import RESULTS

N = int(os.environ.get("FAULT_N", "200"))


@pytest.fixture(scope="session", autouse=True)
def fresh_results():
    RESULTS.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def municipality_for_faults(tmp_path_factory):
    """Miyakonojo with eight crews, so that N households fit in the booking horizon."""
    with open(settings.municipality_config_path(), encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    crew = config["crews"][0]
    config["crews"] = [{**crew, "id": f"crew-{i}", "car": f"car-{i}"} for i in range(1, 9)]
    path = tmp_path_factory.mktemp("config") / "municipality.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def stack(request, vhost_pipeline, municipality_for_faults, tmp_path):
    """A whole fresh system (vhost, database, mailbox) per fault, started as `make run` starts it."""
    uri = urlparse(request.config.getoption("RABBIT_AMQP_URI"))
    service_env = getattr(request, "param", {})
    with vhost_pipeline.get() as vhost:
        stack = Stack(
            amqp_uri=f"{uri.scheme}://{uri.netloc}/{vhost}",
            port_offset=20000,
            smtp_port=21025,
            mongo_port=29018,
            var_dir=tmp_path / "var",
            extra_env={
                "RETRY_DELAYS": "1,2",
                "MESSAGE_RETRY_DELAYS": "2,4,8,16,32",
                "MUNICIPALITY_CONFIG": str(municipality_for_faults),
            },
            service_env=service_env,
        )
        try:
            stack.start(timeout=90)
            yield stack
        finally:
            stack.stop()


def broker_app(action: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", action], check=True, capture_output=True, timeout=60)
    if action == "start_app":
        wait_until(lambda: port_open("127.0.0.1", 5672) and amqp_answers(), timeout=60)


def amqp_answers() -> bool:
    """An AMQP session opens (the port opens a moment before the broker takes sessions)."""
    from kombu import Connection

    try:
        with Connection(settings.amqp_uri(), connect_timeout=2) as connection:
            connection.connect()
        return True
    except Exception:
        return False


def pytest_terminal_summary(terminalreporter):
    if not RESULTS.exists():
        return
    rows = [json.loads(line) for line in RESULTS.read_text(encoding="utf-8").splitlines()]
    terminalreporter.write_sep("=", "fault suite")
    terminalreporter.write_line(
        f"{'fault':34} {'N':>4} {'201':>4} {'lost':>4} {'dup':>4} {'dup visits':>10} {'events twice':>12} "
        f"{'dead letters':>12} {'s':>6}"
    )
    for row in rows:
        terminalreporter.write_line(
            f"{row['fault']:34} {row['n']:>4} {row['accepted']:>4} {row['lost']:>4} {row['duplicate_emails']:>4} "
            f"{row['duplicate_visits']:>10} {sum(row['events_twice'].values()):>12} "
            f"{sum(row['dead_letters'].values()):>12} {row['seconds']:>6}"
        )
