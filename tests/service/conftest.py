import mailbox
import subprocess
import sys
from email import policy
from email.parser import BytesParser

import pytest
from nameko.testing.utils import find_free_port

from deploy.local.stack import ROOT, port_open
from tests.bus import Listener, wait_until


@pytest.fixture
def start(container_factory, rabbit_config, isolated_databases):
    """Starts a service container on the test's own vhost and a free HTTP port; returns its URL."""

    def start(service_cls, **config):
        port = find_free_port()
        container = container_factory(
            service_cls, {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", **config}
        )
        container.start()
        return f"http://127.0.0.1:{port}"

    return start


@pytest.fixture
def listener(rabbit_config):
    listeners = []

    def listen(*exchanges):
        listeners.append(Listener(rabbit_config["AMQP_URI"], list(exchanges)))
        return listeners[-1]

    yield listen
    for item in listeners:
        item.close()


class MailSink:
    def __init__(self, port, maildir):
        self.port, self.maildir = port, maildir

    def messages(self):
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(m.as_bytes()) for m in mailbox.Maildir(self.maildir, create=True)]


@pytest.fixture
def mail_sink(tmp_path):
    """The real SMTP server (aiosmtpd) that `make run` uses, as a process of its own."""
    port, maildir = find_free_port(), tmp_path / "mail"
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.mailsink", "--port", str(port), "--maildir", str(maildir)], cwd=ROOT
    )
    wait_until(lambda: port_open("127.0.0.1", port), timeout=15)
    yield MailSink(port, maildir)
    process.terminate()
    process.wait(10)
