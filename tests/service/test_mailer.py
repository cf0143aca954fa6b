"""The mailer against the real SMTP server: one kept connection for many messages, and a new one
when the server went away in between."""

import subprocess
import sys

import pytest
from nameko.testing.utils import find_free_port

from deploy.local.stack import ROOT, port_open
from shared import mail as mailer_module
from shared.mail import Mailer, Rendered
from tests.bus import wait_until
from tests.service.conftest import MailSink


def start_sink(port, maildir):
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.mailsink", "--port", str(port), "--maildir", str(maildir)], cwd=ROOT
    )
    wait_until(lambda: port_open("127.0.0.1", port), timeout=15)
    return process


def make_mailer(port):
    mailer = Mailer()
    mailer.host, mailer.port, mailer.sender = "127.0.0.1", port, "mynacar@city.example.jp"
    mailer.starttls, mailer.username, mailer.password, mailer._idle = False, "", "", []
    return mailer


def test_messages_share_one_connection_and_survive_a_server_restart(tmp_path, monkeypatch):
    port, maildir = find_free_port(), tmp_path / "mail"
    sink = MailSink(port, maildir)
    process = start_sink(port, maildir)
    mailer = make_mailer(port)
    try:
        connections = []
        connect = mailer._connect
        monkeypatch.setattr(mailer, "_connect", lambda: connections.append(1) or connect())
        for i in range(5):
            mailer.send(f"r{i}@example.jp", Rendered(f"件名 {i}", "本文"), f"m{i}")
        assert len(sink.messages()) == 5 and len(connections) == 1
        process.terminate(), process.wait(10)
        process = start_sink(port, maildir)  # the relay restarted: the kept connection is dead
        mailer.send("after@example.jp", Rendered("再起動後", "本文"), "m-after")
        assert [m["To"] for m in sink.messages()].count("after@example.jp") == 1
        assert len(connections) == 2
        monkeypatch.setattr(mailer_module, "IDLE_SECONDS", 0)  # an idle connection is not trusted
        mailer.send("idle@example.jp", Rendered("間隔", "本文"), "m-idle")
        assert len(connections) == 3 and len(sink.messages()) == 7
    finally:
        mailer.stop()
        process.terminate()
        process.wait(10)


def test_a_server_that_is_down_is_an_error_the_caller_retries(tmp_path):
    mailer = make_mailer(find_free_port())
    with pytest.raises(OSError):  # the notification service catches it and schedules a retry
        mailer.send("x@example.jp", Rendered("件名", "本文"), "m")
    assert mailer._idle == []
