"""Reliable consumption on top of nameko: retries with back-off, then a dead-letter queue.

nameko acks a message whose handler raised, and loses it (see docs/reliability.md, "What nameko 2.14 does by itself").
Our entrypoints (`event_handler`, `consume`) change what happens after a failure:

- the message is published again, with publisher confirms, to a delay queue of the service's own
  for the next attempt (`mynacar.retry.<service>.<seconds>s`: a quorum queue with a TTL whose
  expired messages go back to the consumer's queue through the service's `mynacar.requeue.<service>`
  exchange, where each of its queues is bound by name); only then is the original acked;
- after the last attempt, or at once for a message that breaks the contract, it is parked in the
  consumer's dead-letter queue `<queue>.dead` through the service's `mynacar.dead.<service>`
  exchange, with headers saying why; `python -m deploy.tools.deadletters` lists, shows, replays and
  purges them;
- a message that cannot even be decoded is parked the same way instead of being dropped;
- when the broker cannot take the retry, the original is requeued, never acked and lost;
- consumer queues are quorum queues with a delivery limit, so a message that kills the process each
  time it is handled is dead-lettered by the broker instead of crash-looping the service.

None of this goes through the default exchange: a service allowed to publish there could put a
message into any queue, another service's included (deploy/broker_access.py grants it to nobody).
Messages keep their body, content type and headers through all of this, so a replay is the message
itself. Handlers must be idempotent (shared.consumer), because every path is at-least-once.
"""

from __future__ import annotations

import logging
from typing import Any

from amqp.exceptions import ConnectionError as AMQPConnectionError
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import Rpc

from shared import broker, clock
from shared.events import InvalidEvent

log = logging.getLogger(__name__)

RETRY_DELAYS_CONFIG_KEY = "RETRY_DELAYS"
DEFAULT_RETRY_DELAYS = (5, 30, 120, 600)  # seconds: four more attempts over about 13 minutes
DELIVERY_LIMIT = 10
ATTEMPT_HEADER = "x-mynacar-attempt"
FAILED_QUEUE_HEADER = "x-mynacar-failed-queue"
ERROR_HEADER = "x-mynacar-error"
FAILED_AT_HEADER = "x-mynacar-failed-at"
DEAD_SUFFIX = ".dead"
# The exchanges (and delay queues) each service has of its own: mynacar.<prefix>.<service>[...].
SERVICE_EXCHANGE_PREFIXES = ("retry", "requeue", "dead")

# Failures that another attempt cannot mend: parked at once.
PERMANENT_FAILURES: tuple[type[Exception], ...] = (InvalidEvent,)


def dead_letter_queue_name(queue_name: str) -> str:
    return queue_name + DEAD_SUFFIX


def consumer_queue_arguments(queue_name: str, service: str) -> dict:
    # Past the delivery limit the broker itself moves the message to `<queue>.dead`, through the
    # service's dead exchange (declaring a queue with a dead-letter exchange needs write on it).
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": dead_exchange(service).name,
        "x-dead-letter-routing-key": dead_letter_queue_name(queue_name),
    }


def reliable_queue(name: str, exchange: Exchange, routing_key: str, service: str | None = None) -> Queue:
    """A consumer's quorum queue. Declared at import without a service, it is made again with the
    service's name when the entrypoint is set up (ReliableEventHandler, ReliableConsumer)."""
    arguments = consumer_queue_arguments(name, service) if service else {"x-queue-type": "quorum"}
    return Queue(name, exchange=exchange, routing_key=routing_key, durable=True, queue_arguments=arguments)


def dead_exchange(service: str) -> Exchange:
    return Exchange(f"mynacar.dead.{service}", type="direct", durable=True)


def requeue_exchange(service: str) -> Exchange:
    return Exchange(f"mynacar.requeue.{service}", type="direct", durable=True)


def undecodable_queue_name(service: str) -> str:
    """Where an undecodable message is parked when its queue cannot be told."""
    return f"mynacar.dead.{service}.undecodable"


def dead_letter_queue(queue_name: str, service: str | None = None) -> Queue:
    """`<queue>.dead`, bound by its name to the service's dead exchange (to read one, no service)."""
    name = dead_letter_queue_name(queue_name)
    exchange = dead_exchange(service) if service else Exchange("")
    return Queue(name, exchange=exchange, routing_key=name, durable=True, queue_arguments={"x-queue-type": "quorum"})


def delay_exchange(service: str, seconds: int) -> Exchange:
    return Exchange(f"mynacar.retry.{service}.{seconds}s", type="fanout", durable=True)


def delay_queue(service: str, seconds: int) -> Queue:
    return Queue(
        f"mynacar.retry.{service}.{seconds}s",
        exchange=delay_exchange(service, seconds),
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": seconds * 1000,
            # Expired: to the service's requeue exchange with the routing key kept, the consumer's
            # queue name; only the service's own queues are bound there.
            "x-dead-letter-exchange": requeue_exchange(service).name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def retry_delays(
    config: dict, key: str = RETRY_DELAYS_CONFIG_KEY, default: tuple[int, ...] = DEFAULT_RETRY_DELAYS
) -> tuple[int, ...]:
    """Seconds between attempts, from a comma-separated configuration value."""
    text = str(config.get(key) or "")
    return tuple(int(part) for part in text.split(",") if part.strip()) if text else default


def _error_text(exc_type: type[BaseException] | None, exc: BaseException | None) -> str:
    # The type, and the message of our own contract errors (field names only); other messages
    # might quote data, so they stay in the service log, not on the broker.
    if exc_type is None:
        return "unknown"
    if isinstance(exc, InvalidEvent):
        return f"{exc_type.__name__}: {exc}"[:500]
    return exc_type.__name__


class ReliableQueueConsumer(QueueConsumer):
    """nameko's queue consumer, declaring each consumer's dead-letter queue up front and parking
    undecodable messages there instead of dropping them (and without logging their bodies)."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        service = self.container.service_name
        for provider in self._providers:
            dead_letter_queue(provider.queue.name, service)(channel).declare()
        consumers = super().get_consumers(consumer_cls, channel)  # declares the consumers' queues
        requeue = requeue_exchange(service)(channel)
        requeue.declare()
        for provider in self._providers:  # where its retries come back
            channel.queue_bind(provider.queue.name, exchange=requeue.name, routing_key=provider.queue.name)
        return consumers

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        tag = message.delivery_info.get("consumer_tag")
        queue_name = next(
            (queue for consumer in self._consumers.values() for queue, t in consumer._active_tags.items() if t == tag),
            undecodable_queue_name(self.container.service_name),
        )
        log.error("undecodable message on %s (%s): parked", queue_name, type(exc).__name__)
        try:
            park(
                self.amqp_uri,
                message,
                queue_name,
                f"undecodable: {type(exc).__name__}",
                attempt=0,
                service=self.container.service_name,
            )
        except Exception:  # the broker is away: leave the message where it is
            message.requeue()
            return
        message.ack()


def park(amqp_uri: str, message: Any, queue_name: str, error: str, attempt: int, service: str) -> None:
    dead = dead_letter_queue(queue_name, service)
    Publisher(amqp_uri, ssl=broker.ssl_options(amqp_uri), mandatory=True).publish(
        message.body,
        exchange=dead.exchange,
        routing_key=dead.name,
        declare=[dead],
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        headers={
            **(message.headers or {}),
            ATTEMPT_HEADER: attempt,
            FAILED_QUEUE_HEADER: queue_name,
            ERROR_HEADER: error,
            FAILED_AT_HEADER: clock.iso(clock.now()),
        },
        retry=False,
    )


class RetryingEntrypoint:
    """Mixin for nameko's message entrypoints (EventHandler, Consumer)."""

    queue_consumer = ReliableQueueConsumer()
    queue: Queue
    container: Any

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None) -> None:
        if exc_info is None:
            self._settle(self.queue_consumer.ack_message, message)
            return
        exc_type, exc = exc_info[0], exc_info[1]
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        delays = retry_delays(self.container.config)
        uri = self.container.config[AMQP_URI_CONFIG_KEY]
        error = _error_text(exc_type, exc)
        try:
            if attempt <= len(delays) and not issubclass(exc_type, PERMANENT_FAILURES):
                self._retry_later(uri, message, attempt, delays[attempt - 1], error)
            else:
                park(uri, message, self.queue.name, error, attempt, self.container.service_name)
                log.error("%s: message parked after %d attempt(s) (%s)", self.queue.name, attempt, error)
        except Exception as publish_error:  # cannot hand it on: keep it in its queue
            log.warning("%s: could not schedule a retry (%s); requeued", self.queue.name, type(publish_error).__name__)
            self._settle(self.queue_consumer.requeue_message, message)
            return
        self._settle(self.queue_consumer.ack_message, message)

    def _settle(self, settle: Any, message: Any) -> None:
        """Acks or requeues. If the broker's connection went away while the handler ran, the broker
        puts the unacked message back by itself and delivers it again (consumers apply it once);
        the error must not escape, or it kills the service container (docs/reliability.md)."""
        try:
            settle(message)
        except (OSError, AMQPConnectionError, OperationalError) as error:
            log.warning("%s: connection lost before the ack (%s); the broker redelivers", self.queue.name, error)

    def _retry_later(self, uri: str, message: Any, attempt: int, delay: int, error: str) -> None:
        service = self.container.service_name
        exchange = delay_exchange(service, delay)
        Publisher(uri, ssl=broker.ssl_options(uri), mandatory=True).publish(
            message.body,
            exchange=exchange,
            routing_key=self.queue.name,  # kept on expiry: the requeue exchange routes it home
            declare=[exchange, delay_queue(service, delay)],
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            headers={**(message.headers or {}), ATTEMPT_HEADER: attempt, ERROR_HEADER: error},
            retry=False,
        )
        log.warning("%s: attempt %d failed (%s); next in %ds", self.queue.name, attempt, error, delay)


class ReliableEventHandler(RetryingEntrypoint, EventHandler):
    """nameko's @event_handler (same exchange and queue names) on a quorum queue, with retries."""

    def setup(self) -> None:
        super().setup()
        self.queue = reliable_queue(
            self.queue.name, self.queue.exchange, self.queue.routing_key, self.container.service_name
        )


class ReliableConsumer(RetryingEntrypoint, Consumer):
    """nameko's @consume with retries; give it a queue made by `reliable_queue`."""

    def setup(self) -> None:
        super().setup()
        self.queue = reliable_queue(
            self.queue.name, self.queue.exchange, self.queue.routing_key, self.container.service_name
        )


event_handler = ReliableEventHandler.decorator
consume = ReliableConsumer.decorator


class ResilientRpc(Rpc):
    """nameko's @rpc, except that a reply that cannot be sent (the broker went away mid-call) is
    logged instead of raised: nameko lets that error kill the whole service container. The request
    stays unacked, so the broker delivers it again after reconnecting; our RPC methods only read,
    and the caller has a timeout of its own (shared.contacts)."""

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception as error:  # the reply could not be published: keep the container alive
            log.warning("rpc %s: reply not sent (%s)", worker_ctx.entrypoint.method_name, type(error).__name__)
            return result, exc_info


rpc = ResilientRpc.decorator
