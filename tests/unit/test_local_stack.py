"""The local stack refuses to start over a process left from an earlier run."""

import socket

import pytest

from deploy.local.stack import Stack
from deploy.services import SERVICES


def test_a_taken_port_stops_the_start_before_anything_is_spawned(tmp_path):
    with socket.socket() as leftover:
        leftover.bind(("127.0.0.1", 0))
        leftover.listen()
        port = leftover.getsockname()[1]
        stack = Stack(port_offset=port - SERVICES[0].port, mongodb_uri="mongodb://unused", var_dir=tmp_path)
        with pytest.raises(RuntimeError, match=str(port)):
            stack.start()
        assert stack.processes == {}
