"""The resilient RPC entrypoint (shared.delivery)."""


def test_an_rpc_reply_that_cannot_be_sent_does_not_kill_the_service():
    from unittest import mock

    from kombu.exceptions import OperationalError

    from shared.delivery import ResilientRpc

    entrypoint = ResilientRpc()
    entrypoint.rpc_consumer = mock.Mock()
    entrypoint.rpc_consumer.handle_result.side_effect = OperationalError("ECONNREFUSED")
    worker_ctx = mock.Mock()
    assert entrypoint.handle_result(mock.Mock(), worker_ctx, {"x": 1}, None) == ({"x": 1}, None)


def test_an_ack_on_a_connection_the_broker_has_just_closed_does_not_kill_the_service():
    """The fault suite caught it: the broker stopped while a handler ran, the ack raised
    ConnectionResetError out of nameko's entrypoint and the container died."""
    from unittest import mock

    import pytest

    from shared.delivery import ReliableEventHandler

    entrypoint = ReliableEventHandler("booking", "request_received")
    entrypoint.queue = mock.Mock()
    entrypoint.queue.name = "evt-booking-request_received--x.on_request_received"
    entrypoint.queue_consumer = mock.Mock()
    for lost in (ConnectionResetError(104, "Connection reset by peer"), BrokenPipeError()):
        entrypoint.queue_consumer.ack_message.side_effect = lost
        entrypoint.handle_message_processed(mock.Mock(headers={}))  # no exception: the broker redelivers
    entrypoint.queue_consumer.ack_message.side_effect = ValueError("a bug, not a lost connection")
    with pytest.raises(ValueError):
        entrypoint.handle_message_processed(mock.Mock(headers={}))
