"""Runs the whole system as local processes: the four services, the liaison channel and a mail
sink. `make run` uses it, and so do the end-to-end tests, so both start things the same way."""

from __future__ import annotations

import mailbox
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from deploy import services
from deploy.local.devauth import DevKeys
from deploy.services import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def service_command(spec: ServiceSpec) -> list[str]:
    return [sys.executable, "-m", "deploy.serve", spec.name]


@dataclass
class Stack:
    amqp_uri: str = "amqp://guest:guest@localhost:5672/"
    host: str = "127.0.0.1"
    port_offset: int = 0
    smtp_port: int = 1025
    mongo_port: int = 27018
    oidc_port: int = 8009  # the development OpenID provider the portal signs staff in with
    # A real MongoDB when given; otherwise the stack starts the stand-in server (mongo_standin).
    mongodb_uri: str = field(default_factory=lambda: os.environ.get("MONGODB_URI", ""))
    var_dir: Path = ROOT / "var"
    extra_env: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per service, e.g. fault hooks
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Each service signs in to RabbitMQ as itself, with only its own permissions, as in production
    # (deploy/broker_access.py); the users are made for this stack's vhost and removed at stop.
    broker_identities: bool = True
    service_amqp_uris: dict[str, str] = field(default_factory=dict)
    broker_users: list[str] = field(default_factory=list)  # made by create_broker_identities

    def port(self, spec: ServiceSpec) -> int:
        return spec.port + self.port_offset

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port(self.spec(name))}"

    @property
    def maildir(self) -> Path:
        return self.var_dir / "mail"

    def mails(self) -> list[EmailMessage]:
        """Every message the SMTP sink has received, parsed as a mail client would."""
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(m.as_bytes()) for m in mailbox.Maildir(self.maildir, create=True)]

    def log_path(self, name: str) -> Path:
        return self.var_dir / "logs" / f"{name}.log"

    @property
    def provider_url(self) -> str:
        return f"http://{self.host}:{self.oidc_port + self.port_offset}"

    @property
    def auth(self) -> DevKeys:
        """The development signing key the services trust; `stack.auth.token("reception")` signs in."""
        return DevKeys(self.var_dir / "auth", issuer=self.provider_url).ensure()

    @property
    def database_uri(self) -> str:
        return self.mongodb_uri or f"mongodb://{self.host}:{self.mongo_port}/?directConnection=true"

    def env(self, spec: ServiceSpec | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AMQP_URI": self.service_amqp_uris.get(spec.name, self.amqp_uri) if spec else self.amqp_uri,
            "MONGODB_URI": self.database_uri,
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.smtp_port),
            **self.auth.env(),
            "OIDC_ISSUER": self.provider_url,
            "OIDC_CLIENT_SECRET_FILE": str(self.auth.client_secret_path),
            "PORTAL_BASE_URL": self.url("portal"),
            # The residents' pages are on the portal too (one host here; the public host in a cluster).
            "PUBLIC_BASE_URL": self.url("portal"),
            # The portal passes the resident's address on to booking's per-client rate limit.
            "TRUSTED_PROXY_HOPS": "1",
            **{f"{s.name.upper()}_URL": self.url(s.name) for s in SERVICES},
            **self.extra_env,
        }
        if spec is not None:
            env["WEB_SERVER_ADDRESS"] = f"{self.host}:{self.port(spec)}"
            env.update(self.auth.service_env(spec.name))
            env.update(self.service_env.get(spec.name, {}))
        return env

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Starts a process that `stop` will stop, its output in var/logs/<name>.log."""
        self.log_path(name).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:  # the child keeps its own copy of the handle
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start_mail_sink(self) -> None:
        self.spawn(
            "mailsink",
            [
                sys.executable,
                "-m",
                "deploy.local.mailsink",
                "--host",
                self.host,
                "--port",
                str(self.smtp_port),
                "--maildir",
                str(self.maildir),
            ],
            self.env(),
        )

    def start_database(self) -> None:
        """The MongoDB stand-in, unless a real MongoDB was given."""
        if self.mongodb_uri:
            return
        self.spawn(
            "mongodb",
            [sys.executable, "-m", "deploy.local.mongo_standin", "--host", self.host, "--port", str(self.mongo_port)],
            self.env(),
        )
        self.wait_for_port("mongodb", self.mongo_port)

    def start_identity_provider(self) -> None:
        """The development OpenID provider (deploy.local.oidc_provider), as the city's would be."""
        port = self.oidc_port + self.port_offset
        self.spawn(
            "oidc",
            [
                sys.executable,
                "-m",
                "deploy.local.oidc_provider",
                "--host",
                self.host,
                "--port",
                str(port),
                "--auth-dir",
                str(self.auth.directory),
                "--client-secret-file",
                str(self.auth.client_secret_path),
                "--redirect-uri",
                f"{self.url('portal')}/auth/callback",
            ],
            self.env(),
        )
        self.wait_for_port("oidc", port)

    def wait_for_port(self, name: str, port: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not port_open(self.host, port):
            if time.monotonic() > deadline or self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} did not start; see {self.log_path(name)}")
            time.sleep(0.1)

    def start_service(self, spec: ServiceSpec) -> None:
        self.spawn(spec.name, service_command(spec), self.env(spec))

    def create_broker_identities(self) -> None:
        """A RabbitMQ user per service in this stack's vhost, named `<vhost>-<service>` (users are
        per broker, so two stacks on two vhosts do not share them), with fresh passwords."""
        from deploy import broker_access

        parts = urllib.parse.urlsplit(self.amqp_uri)
        vhost = urllib.parse.unquote(parts.path.lstrip("/")) or "/"
        prefix = "mynacar-" if vhost == "/" else f"{vhost}-"
        passwords = broker_access.apply_all(broker_access.management_url(), vhost, prefix)
        for spec in SERVICES:
            user = urllib.parse.quote(prefix + spec.name, safe="")
            netloc = f"{user}:{passwords[prefix + spec.name]}@{parts.hostname}:{parts.port or 5672}"
            self.service_amqp_uris[spec.name] = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        self.broker_users = list(passwords)

    def remove_broker_identities(self) -> None:
        from deploy import broker_access

        management = broker_access.Management(broker_access.management_url())
        for user in self.broker_users:
            management.delete_user(user)
        self.broker_users = []

    def start(self, timeout: float = 90) -> None:
        self.check_ports_free()
        if self.broker_identities:
            self.create_broker_identities()
        self.start_database()
        self.start_mail_sink()
        self.start_identity_provider()
        for spec in SERVICES:
            self.start_service(spec)
        self.wait_ready(timeout)

    def check_ports_free(self) -> None:
        """Refuses to start over processes left from an earlier run: eventlet listens with
        SO_REUSEPORT, so a leftover service would silently take half of the connections. (Fixed
        ports stay below 32768, where Linux's ephemeral range starts: a client connection can
        hold a port above it, and then nothing can listen there.)"""
        ports = [self.port(spec) for spec in SERVICES] + [self.smtp_port, self.oidc_port + self.port_offset]
        if not self.mongodb_uri:
            ports.append(self.mongo_port)
        taken = [port for port in ports if port_open(self.host, port)]
        if taken:
            raise RuntimeError(f"ports {taken} on {self.host} are in use: is an earlier stack still running?")

    def spec(self, name: str) -> ServiceSpec:
        return services.spec(name)

    def kill(self, name: str) -> None:
        """SIGKILL: no clean-up, as a crash."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def restart_service(self, name: str, timeout: float = 60) -> None:
        self.processes.pop(name, None)
        self.start_service(self.spec(name))
        self.wait_ready(timeout, (self.spec(name),))

    def ready(self, spec: ServiceSpec) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url(spec.name)}/health/ready", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float, services: tuple[ServiceSpec, ...] = SERVICES) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_path(name)}")
            waiting = [s for s in waiting if not self.ready(s)]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout}s: {[s.name for s in waiting]}")
            time.sleep(0.3)

    def stop_process(self, name: str, timeout: float = 15) -> None:
        self._stop([name], timeout)

    def stop(self, timeout: float = 15) -> None:
        services = [name for name in self.processes if name not in ("mongodb", "mailsink", "oidc")]
        self._stop(services, timeout)  # the database, the mail sink and the sign-in provider go last
        self._stop(list(self.processes), timeout)
        self.remove_broker_identities()

    def _stop(self, names: list[str], timeout: float) -> None:
        """SIGTERM to all at once (nameko stops gracefully), SIGKILL to what outlives the timeout."""
        stopping = [self.processes.pop(name) for name in names if name in self.processes]
        for process in stopping:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in stopping:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
