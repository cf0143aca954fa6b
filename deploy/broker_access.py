"""Each service's own RabbitMQ identity, and what it may do (issue 18; docs/security.md).

The permissions are derived from the code, so they follow it: the queues a service consumes (its
event handlers and consumers), the exchanges those are bound to, the events it publishes, the RPC
it serves and the services it calls. Nothing is granted on the default exchange, through which one
could put a message into any queue; retries and dead letters go through exchanges of the
service's own (shared.delivery).

    python -m deploy.broker_access table                 # the table in docs/security.md
    python -m deploy.broker_access apply --vhost mynacar # users and permissions, on a broker's
                                                         # management API (RABBITMQ_MANAGEMENT_URL)

Operators of the RabbitMQ Cluster Operator can give the same rules to its Messaging Topology
Operator (`User`, `Permission`, `TopicPermission`); `definitions` prints them as a definitions file."""

from __future__ import annotations

import argparse
import json
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from functools import cache

import requests
from nameko.rpc import Rpc, RpcProxy

from deploy.services import SERVICES, ServiceSpec
from deploy.tools.deployfiles import consumed, service_class
from shared import events, settings
from shared.delivery import DEAD_SUFFIX, SERVICE_EXCHANGE_PREFIXES

RPC_EXCHANGE = "nameko-rpc"
# nameko's reply queues and routing keys carry a uuid4 of the calling process's reply listener.
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTHING = "^$"
KEDA = "keda"  # the autoscaler's read-only identity: it reads queue lengths, nothing else


def anchored(alternatives: list[str]) -> str:
    unique = sorted(set(alternatives))
    return f"^({'|'.join(unique)})$" if unique else NOTHING


@dataclass
class Access:
    """One identity's permissions in the vhost: resource regexes and topic permissions per exchange."""

    configure: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    topics: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # exchange -> (write, read)

    def permissions(self) -> dict[str, str]:
        return {"configure": anchored(self.configure), "write": anchored(self.write), "read": anchored(self.read)}

    def topic_permissions(self) -> dict[str, dict[str, str]]:
        return {
            exchange: {"write": anchored(write), "read": anchored(read)}
            for exchange, (write, read) in sorted(self.topics.items())
        }


def published_events(spec: ServiceSpec) -> list[str]:
    """The event types the service publishes on its own exchange `<service>.events`."""
    return sorted(
        t.short_name
        for t in events.EVENT_TYPES.values()
        if t.source == spec.name and t.exchange == f"{spec.name}.events"
    )


@dataclass(frozen=True)
class Facts:
    """What the service's code does on the broker."""

    publishes: tuple[tuple[str, tuple[str, ...]], ...]  # (exchange, routing keys)
    consumes: tuple[tuple[str, str, str], ...]  # (queue, exchange, binding key)
    calls: tuple[str, ...]  # services it calls by RPC
    serves_rpc: bool


@cache
def facts(spec: ServiceSpec) -> Facts:
    cls = service_class(spec)
    calls, serves = set(), False
    for attribute in dir(cls):
        member = getattr(cls, attribute)
        if isinstance(member, RpcProxy):
            calls.add(member.target_service)
        serves = serves or any(isinstance(e, Rpc) for e in getattr(member, "nameko_entrypoints", ()))
    publishes = []
    if published_events(spec):
        publishes.append((f"{spec.name}.events", tuple(published_events(spec))))
    if spec.channel:  # an outreach channel: its own routing key on the shared channel exchange
        publishes.append((events.CHANNEL_EXCHANGE, (f"referral.{spec.name}",)))
    return Facts(tuple(publishes), tuple(consumed(spec)), tuple(sorted(calls)), serves)


@cache
def access(spec: ServiceSpec) -> Access:
    f = facts(spec)
    a = Access()
    own = re.escape(spec.name)
    # Retries, requeues and dead letters: the service's own exchanges and delay queues only.
    a.configure.append(rf"mynacar\.({'|'.join(SERVICE_EXCHANGE_PREFIXES)})\.{own}(\..+)?")
    # Publish to them, bind delay queues, and name them as a queue's dead-letter exchange.
    a.write.append(rf"mynacar\.({'|'.join(SERVICE_EXCHANGE_PREFIXES)})\.{own}(\..+)?")
    a.read.append(rf"mynacar\.({'|'.join(SERVICE_EXCHANGE_PREFIXES)})\.{own}")  # bind from them
    for queue, exchange, binding in f.consumes:
        for name in (queue, queue + DEAD_SUFFIX):
            a.configure.append(re.escape(name))
            a.write.append(re.escape(name))  # binding it to the requeue and dead exchanges
        a.read.append(re.escape(queue))  # consuming
        a.configure.append(re.escape(exchange))  # nameko declares what it binds to
        a.read.append(re.escape(exchange))
        if exchange == events.CHANNEL_EXCHANGE:  # shared by the channels: say which keys
            a.topics.setdefault(exchange, ([], []))[1].append(re.escape(binding))
    for exchange, keys in f.publishes:
        a.configure.append(re.escape(exchange))
        a.write.append(re.escape(exchange))
        if exchange == events.CHANNEL_EXCHANGE:
            a.topics.setdefault(exchange, ([], []))[0].extend(re.escape(k) for k in keys)
    rpc_write = [re.escape(target) + r"\.[a-z_]+" for target in f.calls]  # requests to its targets
    rpc_read = [UUID] if f.calls else []  # its reply queue's binding
    if f.calls:
        reply = rf"rpc\.reply-{own}-{UUID}"
        a.configure.append(reply)
        a.write.append(reply)
        a.read.append(reply)
    if f.serves_rpc:  # its queue, requests to it, replies to the callers' uuids
        a.configure.append(f"rpc-{own}")
        a.write.append(f"rpc-{own}")
        a.read.append(f"rpc-{own}")
        rpc_read.append(rf"{own}\.\*")
        rpc_write.append(UUID)
    if rpc_write:
        for kind in (a.configure, a.write, a.read):
            kind.append(re.escape(RPC_EXCHANGE))
        a.topics[RPC_EXCHANGE] = (rpc_write, rpc_read)
    return a


def keda_access() -> Access:
    """KEDA reads queue lengths with a passive declare, which needs no permission: none is given."""
    return Access()


def identities(prefix: str = "mynacar-") -> dict[str, Access]:
    """User name -> access, for every service and KEDA."""
    found = {prefix + spec.name: access(spec) for spec in SERVICES}
    found[prefix + KEDA] = keda_access()
    return found


def management_url() -> str:
    return settings.env("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@localhost:15672")


class Management:
    """The few calls of RabbitMQ's management HTTP API that set identities up."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        self.auth = (urllib.parse.unquote(parts.username or "guest"), urllib.parse.unquote(parts.password or "guest"))

    def _put(self, path: str, body: dict) -> None:
        response = requests.put(f"{self.base}/{path}", json=body, auth=self.auth, timeout=10)
        response.raise_for_status()

    def _delete(self, path: str) -> None:
        response = requests.delete(f"{self.base}/{path}", auth=self.auth, timeout=10)
        if response.status_code != 404:
            response.raise_for_status()

    def apply(self, vhost: str, user: str, password: str | None, a: Access) -> None:
        """Creates or updates `user` (a password, or none: certificate sign-in only) and sets its
        permissions in `vhost`, replacing any it had."""
        quoted, v = urllib.parse.quote(user, safe=""), urllib.parse.quote(vhost, safe="")
        self._put(
            f"users/{quoted}", {"password": password, "tags": ""} if password else {"password_hash": "", "tags": ""}
        )
        self._put(f"permissions/{v}/{quoted}", a.permissions())
        self._delete(f"topic-permissions/{v}/{quoted}")
        for exchange, rules in a.topic_permissions().items():
            self._put(f"topic-permissions/{v}/{quoted}", {"exchange": exchange, **rules})

    def delete_user(self, user: str) -> None:
        self._delete(f"users/{urllib.parse.quote(user, safe='')}")


def apply_all(management_url: str, vhost: str, prefix: str = "mynacar-") -> dict[str, str]:
    """Every identity with a new random password; returns user -> password."""
    management = Management(management_url)
    passwords = {}
    for user, a in identities(prefix).items():
        passwords[user] = secrets.token_urlsafe(24)
        management.apply(vhost, user, passwords[user], a)
    return passwords


def table() -> str:
    """What each identity may do, in words (docs/security.md). The exact regular expressions:
    `python -m deploy.broker_access definitions`."""
    rows = [
        "| identity | publishes (exchange: routing keys) | consumes (from) | calls by RPC | answers RPC |",
        "|---|---|---|---|---|",
    ]
    for spec in SERVICES:
        f = facts(spec)
        publishes = "<br>".join(f"`{x}`: {', '.join(f'`{k}`' for k in keys)}" for x, keys in f.publishes) or "-"
        sources = sorted({f"`{exchange}` {binding}".strip() for _, exchange, binding in f.consumes})
        consumes = f"its {len(f.consumes)} queues: " + ", ".join(sources) if f.consumes else "-"
        calls = ", ".join(f"`{target}`" for target in f.calls) or "-"
        rows.append(
            f"| `mynacar-{spec.name}` | {publishes} | {consumes} | {calls} | {'yes' if f.serves_rpc else '-'} |"
        )
    rows.append("| `mynacar-keda` | - | - (reads queue lengths) | - | - |")
    return "\n".join(rows)


def definitions(vhost: str) -> dict:
    """The identities as a RabbitMQ definitions file (no passwords: set them, or use certificates)."""
    found = identities()
    return {
        "users": [{"name": user, "password_hash": "", "tags": []} for user in found],
        "permissions": [{"user": user, "vhost": vhost, **a.permissions()} for user, a in found.items()],
        "topic_permissions": [
            {"user": user, "vhost": vhost, "exchange": exchange, **rules}
            for user, a in found.items()
            for exchange, rules in a.topic_permissions().items()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Each service's RabbitMQ identity and permissions.")
    parser.add_argument("command", choices=("table", "definitions", "apply"))
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--management", default=management_url())
    args = parser.parse_args()
    if args.command == "table":
        print(table())
    elif args.command == "definitions":
        print(json.dumps(definitions(args.vhost), indent=2))
    else:
        for user, password in apply_all(args.management, args.vhost).items():
            print(f"{user}\t{password}")


if __name__ == "__main__":
    main()
