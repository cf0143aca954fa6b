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
