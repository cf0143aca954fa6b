"""The fault suite's harness: post bookings through HTTP while a fault happens, let the system
settle, fix every visit's slot, then count from the outside: HTTP, the SMTP sink's mailbox, the
dead-letter queues, and every event on the bus (a durable queue of the harness's own, bound to
every exchange, so it keeps what arrives while the broker restarts)."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests
from kombu import Connection, Queue

from deploy.local.stack import Stack
from shared.events import CHANNEL_EXCHANGE
from tests.bus import exchange, settled
from tests.factories import applicant, booking_body, funnel_period, staff_session

RESULTS = Path(__file__).resolve().parents[2] / "var" / "fault-results.jsonl"
# Seconds without a new e-mail before the mailbox is counted (longer than the redelivery of an
# event whose consumer was killed, which is what sends a late duplicate).
QUIET_SECONDS = 8

KINDS = {"受け付けました": "acknowledgement", "訪問日時が決まりました": "confirmation"}
CENSUS_QUEUE = "fault.census"
EXCHANGES = ("booking.events", "scheduling.events", "notification.events", CHANNEL_EXCHANGE)
# Per accepted booking, each of these events must be on the bus once (after de-duplication by
# event_id); notification.sent once per kind of message.
ONCE_PER_BOOKING = ("booking.request_received", "scheduling.slot_fixed")
SENT_KINDS = ("acknowledgement", "confirmation")


@dataclass
class Outcome:
    fault: str
    n: int
    accepted: int = 0
    without_visit: int = 0
    without_acknowledgement: int = 0
    without_confirmation: int = 0
    duplicate_emails: int = 0
    duplicate_message_ids: list[str] = field(default_factory=list)
    duplicate_visits: int = 0
    # On the bus, per accepted booking: events never seen, and events seen more than once with
    # different event ids (the same event redelivered is fine; a second event is a duplicate).
    events_missing: dict[str, int] = field(default_factory=dict)
    events_twice: dict[str, int] = field(default_factory=dict)
    funnel_booked: int = 0
    funnel_slot_fixed: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return (
            self.without_visit
            + self.without_acknowledgement
            + self.without_confirmation
            + sum(self.events_missing.values())
        )

    def save(self) -> None:
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(json.dumps({**asdict(self), "lost": self.lost}, ensure_ascii=False) + "\n")


class Harness:
    def __init__(self, stack: Stack, fault: str, n: int) -> None:
        self.stack, self.fault, self.n = stack, fault, n
        self.session = staff_session(self.stack)
        self.accepted: dict[str, str] = {}  # booking id -> e-mail address
        self.accepted_at: dict[str, float] = {}  # booking id -> when its 201 came (monotonic)
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.fault_error: BaseException | None = None
        self._declare_census()

    def accepted_between(self, first: float, last: float) -> int:
        """Bookings answered 201 between two moments: the proof that they came in during a fault."""
        return sum(1 for at in self.accepted_at.values() if first <= at <= last)

    # --- traffic ------------------------------------------------------------------------------

    def post_bookings(
        self, seconds: float, fault_at: int | None = None, fault: Callable[[], None] | None = None
    ) -> None:
        """Posts n bookings spread over `seconds` from 4 clients; runs `fault` in a thread when
        `fault_at` have been posted. Returns when all are posted and the fault is over."""
        posted = iter(range(self.n))
        fault_thread = None
        interval = seconds / self.n * 4

        def run_fault() -> None:
            try:
                fault()
            except BaseException as error:  # re-raised in the test's thread below
                self.fault_error = error

        def client() -> None:
            nonlocal fault_thread
            session = staff_session(self.stack)
            for i in posted:
                if fault is not None and i == fault_at:
                    fault_thread = threading.Thread(target=run_fault)
                    fault_thread.start()
                self._post_one(session, i)
                time.sleep(interval)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: client(), range(4)))
        if fault_thread is not None:
            fault_thread.join()
        if fault is not None and fault_thread is None:
            raise AssertionError(f"the fault never ran (fault_at={fault_at} of {self.n} bookings)")
        if self.fault_error is not None:
            raise AssertionError(f"the fault did not happen as planned: {self.fault_error!r}") from self.fault_error

    def _post_one(self, session: requests.Session, i: int) -> None:
        email = f"{self.fault}-{i}@example.jp"
        body = booking_body(applicants=[applicant(i)], email=email)
        body["address"]["district"] = ["姫城", "庄内", "高崎", "山之口", "中郷"][i % 5]
        for _ in range(3):  # a refused connection is the client's to retry; only 201 counts
            try:
                answer = session.post(f"{self.stack.url('booking')}/api/v1/bookings", json=body, timeout=10)
            except requests.ConnectionError:
                time.sleep(0.5)
                continue
            if answer.status_code == 201:
                with self.lock:
                    self.accepted[answer.json()["booking_id"]] = email
                    self.accepted_at[answer.json()["booking_id"]] = time.monotonic()
            return

    # --- settling -----------------------------------------------------------------------------

    def all_visits(self) -> list[dict]:
        """Every visit of an accepted booking, as listed: a second visit for one booking shows here."""
        answer = self.session.get(f"{self.stack.url('scheduling')}/api/v1/visits", params={"limit": 500}, timeout=30)
        answer.raise_for_status()
        return [v for v in answer.json()["visits"] if v["booking_id"] in self.accepted]

    def visits(self) -> dict[str, dict]:
        return {v["booking_id"]: v for v in self.all_visits()}

    def wait_for_visits(self, timeout: float = 120) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.visits()
            if len(found) == len(self.accepted) or time.monotonic() > deadline:
                return found
            time.sleep(1)

    def fix_all(self, visits: dict[str, dict]) -> None:
        def fix(visit: dict) -> None:
            base = f"{self.stack.url('scheduling')}/api/v1/visits/{visit['visit_id']}"
            session = staff_session(self.stack)
            for _ in range(5):
                offers = session.get(f"{base}/suggestions", params={"limit": 5, "days": 20}, timeout=30)
                offers = offers.json()["suggestions"]
                for offer in offers:
                    answer = session.post(
                        f"{base}/slot", json={"start": offer["start"], "crew_id": offer["crew_id"]}, timeout=30
                    )
                    if answer.status_code == 200:
                        return

        unscheduled = [v for v in visits.values() if v["status"] == "unscheduled"]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(fix, unscheduled))

    def mails(self) -> list:
        return self.stack.mails()

    def mail_kinds(self, mails: list | None = None) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        for mail in self.mails() if mails is None else mails:
            kind = next((k for phrase, k in KINDS.items() if phrase in mail["Subject"]), None)
            if kind:
                counts[(mail["To"], kind)] += 1
        return counts

    def quiet_mailbox(self) -> list:
        """The mailbox once nothing new has arrived for QUIET_SECONDS (a resend after a restart)."""
        return settled(self.mails, QUIET_SECONDS)

    def wait_for_mail(self, kind: str, timeout: float = 120) -> None:
        wanted = set(self.accepted.values())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            have = {to for (to, k) in self.mail_kinds() if k == kind}
            if wanted <= have:
                return
            time.sleep(1)

    def dead_letter_counts(self) -> dict[str, int]:
        counts = {}
        with Connection(self.stack.amqp_uri) as connection:
            channel = connection.channel()
            for name in self._consumer_queues():
                try:
                    n = channel.queue_declare(f"{name}.dead", passive=True).message_count
                except Exception:  # never declared: no consumer of that queue has parked anything
                    channel = connection.channel()
                    continue
                if n:
                    counts[f"{name}.dead"] = n
        return counts

    def _consumer_queues(self) -> list[str]:
        answer = requests.get("http://localhost:15672/api/queues", auth=("guest", "guest"), timeout=10).json()
        vhost = self.stack.amqp_uri.rsplit("/", 1)[-1]
        return [q["name"] for q in answer if q["vhost"] == vhost and not q["name"].endswith(".dead")]

    # --- the bus ----------------------------------------------------------------------------------

    def _declare_census(self) -> None:
        """A durable queue bound to every exchange, declared before any traffic: what the services
        publish is kept in it (persistent messages) through a broker restart, to be counted last."""
        with Connection(self.stack.amqp_uri) as connection:
            channel = connection.channel()
            queue = Queue(CENSUS_QUEUE, durable=True, auto_delete=False, channel=channel)
            queue.declare()
            for name in EXCHANGES:
                ex = exchange(name)(channel)
                ex.declare()
                queue.bind_to(ex, routing_key="#")

    def census(self) -> list[dict]:
        """Every event the census queue holds, taken off it."""
        found = []
        with Connection(self.stack.amqp_uri) as connection:
            queue = Queue(CENSUS_QUEUE, durable=True, auto_delete=False, channel=connection.channel())
            while (message := queue.get(no_ack=True)) is not None:
                try:
                    found.append(json.loads(message.body))
                except ValueError:
                    continue  # a malformed message a fault put there on purpose
        return found

    def count_events(self, outcome: Outcome, events: list[dict]) -> None:
        """At least once, and exactly once after de-duplication by event_id, per accepted booking."""
        distinct: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
                continue
            booking_id = event["payload"].get("booking_id")
            name = event.get("event_type", "")
            if name == "notification.sent":
                name = f"{name}:{event['payload'].get('kind')}"
            distinct[(name, booking_id)].add(event.get("event_id"))
        wanted = [*ONCE_PER_BOOKING, *(f"notification.sent:{kind}" for kind in SENT_KINDS)]
        for name in wanted:
            seen = [len(distinct.get((name, booking_id), ())) for booking_id in self.accepted]
            outcome.events_missing[name] = sum(1 for n in seen if n == 0)
            outcome.events_twice[name] = sum(n - 1 for n in seen if n > 1)

    def funnel(self) -> dict:
        """Outreach's own figures, asked as a manager would."""
        manager = staff_session(self.stack, "manager")
        answer = manager.get(f"{self.stack.url('outreach')}/api/v1/funnel", params=funnel_period(), timeout=30)
        answer.raise_for_status()
        return answer.json()["total"]

    # --- counting -----------------------------------------------------------------------------

    def settle_and_count(self) -> Outcome:
        visits = self.wait_for_visits()
        self.wait_for_mail("acknowledgement")
        self.fix_all(visits)
        self.wait_for_mail("confirmation")
        mails = self.quiet_mailbox()
        listed = self.all_visits()
        visits = {v["booking_id"]: v for v in listed}
        kinds = self.mail_kinds(mails)
        addresses = set(self.accepted.values())
        outcome = Outcome(fault=self.fault, n=self.n, accepted=len(self.accepted))
        outcome.without_visit = len(self.accepted) - len(visits)
        outcome.without_acknowledgement = sum(1 for a in addresses if kinds[(a, "acknowledgement")] == 0)
        outcome.without_confirmation = sum(1 for a in addresses if kinds[(a, "confirmation")] == 0)
        outcome.duplicate_emails = sum(count - 1 for count in kinds.values() if count > 1)
        ids = collections.Counter(m["Message-ID"] for m in mails)  # the same snapshot as the kinds
        outcome.duplicate_message_ids = sorted(mid for mid, count in ids.items() if count > 1)
        outcome.duplicate_visits = len(listed) - len(visits)
        self.count_events(outcome, self.census())
        figures = self.funnel()
        outcome.funnel_booked, outcome.funnel_slot_fixed = figures["booked"], figures["slot_fixed"]
        outcome.dead_letters = self.dead_letter_counts()
        outcome.seconds = round(time.monotonic() - self.started, 1)
        outcome.save()
        return outcome


class Duplicator:
    """Publishes every booking and scheduling event a second time, as a broken publisher would."""

    COPY = "x-fault-copy"

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self.copied = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with Connection(self.amqp_uri) as connection:
            channel = connection.channel()
            queue = Queue("fault.duplicator", exclusive=True, channel=channel)
            queue.declare()
            for name in ("booking.events", "scheduling.events"):
                ex = exchange(name)(channel)
                ex.declare()
                queue.bind_to(ex, routing_key="#")
            producer = connection.Producer(channel)
            while not self.stopping.is_set():
                message = queue.get(no_ack=True)
                if message is None:
                    time.sleep(0.02)
                    continue
                if (message.headers or {}).get(self.COPY):
                    continue
                producer.publish(
                    message.body,
                    exchange=message.delivery_info["exchange"],
                    routing_key=message.delivery_info["routing_key"],
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                    headers={**(message.headers or {}), self.COPY: True},
                )
                self.copied += 1

    def __enter__(self) -> Duplicator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(10)
