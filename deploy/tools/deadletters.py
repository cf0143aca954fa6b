"""The operator's tool for dead letters: messages a consumer gave up on (see shared.delivery).

    python -m deploy.tools.deadletters list
    python -m deploy.tools.deadletters show  QUEUE [--limit N]
    python -m deploy.tools.deadletters replay QUEUE [--limit N]   # back to the consumer's queue, attempts reset
    python -m deploy.tools.deadletters purge QUEUE

QUEUE is a dead-letter queue (`<consumer queue>.dead`, as `list` shows). Uses AMQP_URI and the
RabbitMQ management API (RABBITMQ_MANAGEMENT_URL, default http://guest:guest@localhost:15672).
`show` masks the household that a referral carries.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import warnings
from typing import Any, TextIO

# An operator's command: eventlet's deprecation notice (imported through nameko) is only noise here.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import requests  # noqa: E402
from kombu import Exchange, Queue  # noqa: E402

from shared import broker, settings  # noqa: E402
from shared.delivery import (  # noqa: E402
    ATTEMPT_HEADER,
    DEAD_SUFFIX,
    ERROR_HEADER,
    FAILED_QUEUE_HEADER,
    dead_letter_queue,
)

MASKED = "***"


def management_url() -> str:
    return settings.env("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@localhost:15672")


def vhost_of(amqp_uri: str) -> str:
    path = urllib.parse.urlparse(amqp_uri).path.lstrip("/")
    return urllib.parse.unquote(path) or "/"


def dead_letter_queues(amqp_uri: str) -> list[dict]:
    """Names from the management API; counts from the broker itself (the API's figures lag)."""
    names = _queue_names(amqp_uri)
    with broker.connect(amqp_uri) as connection:
        channel = connection.channel()
        return [
            {"queue": name, "messages": channel.queue_declare(name, passive=True).message_count}
            for name in sorted(names)
            if name.endswith(DEAD_SUFFIX)
        ]


def _queue_names(amqp_uri: str) -> list[str]:
    parts = urllib.parse.urlparse(management_url())
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    vhost = urllib.parse.quote(vhost_of(amqp_uri), safe="")
    answer = requests.get(
        f"{base}/api/queues/{vhost}", auth=(parts.username or "guest", parts.password or "guest"), timeout=10
    )
    answer.raise_for_status()
    return [queue["name"] for queue in answer.json()]


def masked(body: Any) -> Any:
    """Referrals carry a household: an operator needs to see that it is there, not what it says."""
    if isinstance(body, dict) and isinstance(body.get("payload"), dict) and "household" in body["payload"]:
        return {**body, "payload": {**body["payload"], "household": MASKED}}
    return body


def _decoded(message: Any) -> Any:
    try:
        return json.loads(message.body)
    except (ValueError, TypeError):
        return {"undecodable_bytes": len(message.body or b"")}


def _queue(name: str) -> Queue:
    if not name.endswith(DEAD_SUFFIX):
        raise SystemExit(f"{name} is not a dead-letter queue (its name ends with {DEAD_SUFFIX})")
    return dead_letter_queue(name.removesuffix(DEAD_SUFFIX))


def show(amqp_uri: str, name: str, limit: int, out: TextIO) -> int:
    """Prints up to `limit` dead letters and leaves them where they are."""
    shown, held = 0, []
    with broker.connect(amqp_uri) as connection:
        queue = _queue(name)(connection.channel())
        while shown < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            held.append(message)
            headers = message.headers or {}
            print(
                json.dumps(
                    {
                        "failed_queue": headers.get(FAILED_QUEUE_HEADER),
                        "attempts": headers.get(ATTEMPT_HEADER),
                        "error": headers.get(ERROR_HEADER),
                        "failed_at": headers.get("x-mynacar-failed-at"),
                        "body": masked(_decoded(message)),
                    },
                    ensure_ascii=False,
                ),
                file=out,
            )
            shown += 1
        for message in held:
            message.requeue()
    return shown


def replay(amqp_uri: str, name: str, limit: int) -> int:
    """Moves up to `limit` dead letters back to the queue they failed on, with attempts reset."""
    moved = 0
    with broker.connect(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        queue = _queue(name)(channel)
        producer = connection.Producer(channel)
        while moved < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            target = headers.get(FAILED_QUEUE_HEADER) or name.removesuffix(DEAD_SUFFIX)
            for key in (ATTEMPT_HEADER, ERROR_HEADER, FAILED_QUEUE_HEADER, "x-mynacar-failed-at", "x-death"):
                headers.pop(key, None)
            producer.publish(
                message.body,
                exchange=Exchange(""),
                routing_key=target,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                mandatory=True,
            )
            message.ack()
            moved += 1
    return moved


def purge(amqp_uri: str, name: str) -> int:
    with broker.connect(amqp_uri) as connection:
        return _queue(name)(connection.channel()).purge() or 0


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.tools.deadletters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--amqp-uri", default=settings.amqp_uri())
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="dead-letter queues and how many messages each holds")
    for command in ("show", "replay", "purge"):
        sub = commands.add_parser(command)
        sub.add_argument("queue")
        if command != "purge":
            sub.add_argument("--limit", type=int, default=20 if command == "show" else 1_000_000)
    args = parser.parse_args(argv)
    if args.command == "list":
        for queue in dead_letter_queues(args.amqp_uri):
            print(f"{queue['messages']:>8}  {queue['queue']}", file=out)
    elif args.command == "show":
        show(args.amqp_uri, args.queue, args.limit, out)
    elif args.command == "replay":
        print(f"replayed {replay(args.amqp_uri, args.queue, args.limit)}", file=out)
    else:
        print(f"purged {purge(args.amqp_uri, args.queue)}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
