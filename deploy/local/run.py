"""`make run`: the whole system on this machine, with Miyakonojo's demo configuration."""

from __future__ import annotations

import os
import signal
import sys
import threading

from deploy.local.stack import SERVICES, Stack
from deploy.local.vhosts import fresh_vhost

LOCAL_VHOST = "mynacar-local"

BANNER = """
mynacar is running (Miyakonojo demo configuration).

{services}

  every service: /metrics, /health/live, /health/ready
  database:      {database}
  e-mail:        SMTP sink on {host}:{smtp}; messages in {maildir}
  logs:          {logs}
  RabbitMQ:      {amqp} (management UI http://localhost:15672, guest/guest)
  dead letters:  AMQP_URI={amqp_full} .venv/bin/python -m deploy.tools.deadletters list

Try:  curl -s -X POST {booking}/api/v1/bookings -H 'Content-Type: application/json' \\
        -d @deploy/local/example-booking.json

Staff APIs need a token (roles: reception, crew, liaison, manager, operator; see docs/security.md):
      TOKEN=$(make -s token ROLE=reception)
      curl -s {scheduling}/api/v1/visits -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.
"""


def service_lines(stack: Stack) -> str:
    """One line per service of deploy/services.py: where to start and what it is for."""
    return "\n".join(f"  {s.name:<13} {stack.url(s.name) + s.home:<40} {s.summary}" for s in SERVICES)


def main() -> None:
    amqp_uri = os.environ.get("AMQP_URI") or ""
    if not amqp_uri:
        # Fresh data (the stand-in) wants fresh queues; a real MongoDB keeps the default vhost's.
        amqp_uri = (
            fresh_vhost(LOCAL_VHOST) if not os.environ.get("MONGODB_URI") else "amqp://guest:guest@localhost:5672/"
        )
    stack = Stack(amqp_uri=amqp_uri, host=os.environ.get("MYNACAR_HOST", "127.0.0.1"))
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print("Starting the database, the mail sink and", ", ".join(s.name for s in SERVICES), "...", flush=True)
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"Could not start: {error}", file=sys.stderr)
        stack.stop()
        sys.exit(1)
    print(
        BANNER.format(
            services=service_lines(stack),
            host=stack.host,
            smtp=stack.smtp_port,
            maildir=stack.maildir,
            logs=stack.log_path("*"),
            amqp=stack.amqp_uri.replace("guest:guest@", ""),
            amqp_full=stack.amqp_uri,
            database=stack.mongodb_uri.split("@")[-1]
            if stack.mongodb_uri
            else f"MongoDB stand-in (mongomock) at {stack.database_uri}; data lasts until you stop",
        ),
        flush=True,
    )
    while not stopping.wait(1):
        for name, process in stack.processes.items():
            if process.poll() is not None:
                print(f"{name} stopped unexpectedly (exit {process.returncode}); see {stack.log_path(name)}")
                stopping.set()
    print("Stopping...", flush=True)
    stack.stop()
    print("Stopped.")


if __name__ == "__main__":
    main()
