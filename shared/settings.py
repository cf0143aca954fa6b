"""Settings from environment variables, with defaults that serve a local run."""

from __future__ import annotations

import os
from pathlib import Path

MUNICIPALITY_DIR = Path(__file__).parent / "municipalities"


def env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value else default


def amqp_uri() -> str:
    return env("AMQP_URI", "amqp://guest:guest@localhost:5672/")


def amqp_ca_file() -> str:
    """The CA bundle that signs the broker's TLS certificate (amqps:// URIs); empty: the system's."""
    return os.environ.get("AMQP_CA_FILE", "")


def amqp_client_cert() -> tuple[str, str]:
    """(certificate, key) files this service presents to the broker over TLS; empty: none."""
    return os.environ.get("AMQP_CLIENT_CERT_FILE", ""), os.environ.get("AMQP_CLIENT_KEY_FILE", "")


def mongodb_uri() -> str:
    """Empty means: use the in-process stand-in (see shared.db)."""
    return os.environ.get("MONGODB_URI", "")


def database_prefix() -> str:
    return env("MONGODB_DATABASE_PREFIX", "mynacar_")


def municipality_config_path() -> Path:
    return Path(env("MUNICIPALITY_CONFIG", str(MUNICIPALITY_DIR / "miyakonojo.yaml")))


def retention_days() -> int:
    """Days a booking's personal data is kept after its visit is done or it is cancelled."""
    return int(env("RETENTION_DAYS", "90"))


def public_base_url() -> str:
    """Where residents' pages are (the ingress's public host): links in e-mails point here."""
    return env("PUBLIC_BASE_URL", "http://127.0.0.1:8006").rstrip("/")
