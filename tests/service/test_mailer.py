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
    mailer.ca_file = None
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


def certificates(tmp_path) -> tuple[str, str, str]:
    """A throwaway CA and a certificate it signed for "localhost" only: (CA, certificate, key)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = [tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tuple(str(p) for p in paths)


def test_starttls_checks_the_relays_certificate_and_its_host_name(tmp_path):
    import ssl

    from aiosmtpd.controller import Controller

    from deploy.local.mailsink import MaildirHandler

    ca, cert, key = certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    port = find_free_port()
    handler = MaildirHandler(str(tmp_path / "mail"))
    relay = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    relay.start()
    try:
        mailer = make_mailer(port)
        mailer.host, mailer.starttls = "localhost", True
        with pytest.raises(ssl.SSLCertVerificationError):  # a CA the system does not know
            mailer.send("a@example.jp", Rendered("件名", "本文"), "m-untrusted")
        mailer.ca_file = ca
        mailer.host = "127.0.0.1"
        with pytest.raises(ssl.SSLCertVerificationError):  # the right CA, but not the name it was issued to
            mailer.send("a@example.jp", Rendered("件名", "本文"), "m-wrong-name")
        mailer.host = "localhost"
        mailer.send("a@example.jp", Rendered("件名", "本文"), "m-verified")
        assert [m["Message-ID"] for m in handler.maildir] == ["<m-verified@mynacar>"]
    finally:
        relay.stop()
