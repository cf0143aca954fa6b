"""Development secrets, made once under var/auth/: a signing key and demo staff, so `make run` and
the tests can call the staff APIs, and the data keys that seal personal data (shared.sealing).

In production the city's OpenID Connect provider signs the tokens and the services only hold its
public keys (AUTH_JWKS_URL or AUTH_JWKS). Here an EC P-256 key is made once under var/auth/, its
public half written as a JWKS file that the services read (AUTH_JWKS_FILE).

    python -m deploy.local.devauth token reception            # what `make token ROLE=reception` runs
    python -m deploy.local.devauth token crew --crew crew-2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from shared.auth import ROLES
from shared.sealing import Keyring

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "var" / "auth"
# The local OpenID provider `make run` starts (deploy.local.oidc_provider) issues as this.
ISSUER = "http://127.0.0.1:8009"
AUDIENCE = "mynacar"
KEY_ID = "mynacar-dev-1"
TOKEN_HOURS = 8


@dataclass(frozen=True)
class DemoStaff:
    subject: str
    role: str
    crew_id: str | None = None
    liaison_id: str | None = None


# One per role (Miyakonojo's demo crew is crew-1; the liaison chairs 庄内地区公民館).
DEMO_STAFF = {
    "reception": DemoStaff("demo-reception", "reception"),
    "crew": DemoStaff("demo-crew-1", "crew", crew_id="crew-1"),
    "liaison": DemoStaff("demo-liaison", "liaison", liaison_id="hall-shonai-3"),
    "manager": DemoStaff("demo-manager", "manager"),
    "operator": DemoStaff("demo-operator", "operator"),
}


def _write_if_changed(path: Path, text: str) -> None:
    """ensure() runs on every look at the keys: rewrite a derived file only when it would differ,
    so a service reading it at that moment never finds it half written."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


@dataclass(frozen=True)
class DevKeys:
    directory: Path
    # The local OpenID provider's URL where one runs (deploy.local.oidc_provider): its tokens and
    # these name the same issuer, so the services accept both.
    issuer: str = ISSUER

    @property
    def private_key_path(self) -> Path:
        return self.directory / "signing-key.pem"

    @property
    def jwks_path(self) -> Path:
        return self.directory / "jwks.json"

    @property
    def data_keys_path(self) -> Path:
        return self.directory / "data-keys.json"

    @property
    def service_keys_path(self) -> Path:
        """The public keys of the services that speak for themselves (shared.rpc_identity)."""
        return self.directory / "service-keys.json"

    def service_key_path(self, service: str) -> Path:
        return self.directory / f"service-key-{service}.pem"

    @property
    def referral_public_key_path(self) -> Path:
        """Booking's public key that channels seal referrals to (shared.referral_seal)."""
        return self.directory / "referral-public-key.json"

    def channel_keys_path(self, service: str) -> Path:
        """An outreach channel's own data keys (its chairs' details), not the residents' ones."""
        return self.directory / f"data-keys-{service}.json"

    def service_env(self, service: str) -> dict[str, str]:
        """What one service holds of its own: its signing key, or a channel's own data keys."""
        found = {}
        if self.service_key_path(service).exists():
            found["SERVICE_KEY_FILE"] = str(self.service_key_path(service))
        if self.channel_keys_path(service).exists():
            found["DATA_KEYS_FILE"] = str(self.channel_keys_path(service))
        return found

    def _ensure_channel_keys(self) -> None:
        from deploy.services import SERVICES
        from shared import referral_seal

        for spec in SERVICES:
            path = self.channel_keys_path(spec.name)
            if spec.channel and not path.exists():
                path.touch(mode=0o600)
                path.write_text(json.dumps(Keyring.generate(f"{spec.name}-1"), indent=2))
        ring = Keyring.from_json(self.data_keys_path.read_text())
        _write_if_changed(self.referral_public_key_path, json.dumps(referral_seal.public_document(ring), indent=2))

    def _ensure_service_keys(self) -> None:
        from deploy.services import SERVICES

        public = {}
        for spec in SERVICES:
            if "service_key" not in spec.needs:
                continue
            path = self.service_key_path(spec.name)
            if not path.exists():
                path.touch(mode=0o600)
                path.write_bytes(
                    ed25519.Ed25519PrivateKey.generate().private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                    )
                )
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            public[spec.name] = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
        _write_if_changed(self.service_keys_path, json.dumps(public, indent=2))

    @property
    def client_secret_path(self) -> Path:
        """The portal's client secret at the development OpenID provider."""
        return self.directory / "portal-client-secret"

    def ensure(self) -> DevKeys:
        """Makes the keys once; later runs reuse them, so tokens and sealed data outlive a restart."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.data_keys_path.exists():
            self.data_keys_path.touch(mode=0o600)
            self.data_keys_path.write_text(json.dumps(Keyring.generate("dev-1"), indent=2))
        if not self.client_secret_path.exists():
            self.client_secret_path.touch(mode=0o600)
            self.client_secret_path.write_text(secrets.token_urlsafe(32))
        self._ensure_service_keys()
        self._ensure_channel_keys()
        if self.private_key_path.exists() and self.jwks_path.exists():
            return self
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.private_key_path.touch(mode=0o600)
        self.private_key_path.write_bytes(pem)
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        public.update(kid=KEY_ID, use="sig", alg="ES256")
        self.jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
        return self

    def env(self) -> dict[str, str]:
        """What a service needs to verify these tokens and to open sealed data."""
        return {
            "AUTH_JWKS_FILE": str(self.jwks_path),
            "AUTH_ISSUER": self.issuer,
            "AUTH_AUDIENCE": AUDIENCE,
            "DATA_KEYS_FILE": str(self.data_keys_path),
            "SERVICE_KEYS_FILE": str(self.service_keys_path),
            "REFERRAL_PUBLIC_KEY_FILE": str(self.referral_public_key_path),
        }

    def token(
        self,
        roles: str | list[str],
        subject: str | None = None,
        crew_id: str | None = None,
        liaison_id: str | None = None,
        hours: float = TOKEN_HOURS,
        **claims: object,
    ) -> str:
        roles = [roles] if isinstance(roles, str) else list(roles)
        now = dt.datetime.now(dt.UTC)
        body: dict = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject or f"test-{'-'.join(roles)}",
            "iat": now,
            "exp": now + dt.timedelta(hours=hours),
            "jti": str(uuid.uuid4()),
            "roles": roles,
        }
        if crew_id:
            body["crew_id"] = crew_id
        if liaison_id:
            body["liaison_id"] = liaison_id
        body.update(claims)
        key = serialization.load_pem_private_key(self.private_key_path.read_bytes(), password=None)
        return jwt.encode(body, key, algorithm="ES256", headers={"kid": KEY_ID})

    def demo_token(self, role: str, crew_id: str | None = None, liaison_id: str | None = None) -> str:
        demo = DEMO_STAFF[role]
        return self.token(
            role, subject=demo.subject, crew_id=crew_id or demo.crew_id, liaison_id=liaison_id or demo.liaison_id
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.devauth")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a development token for a demo staff member")
    token.add_argument("role", choices=ROLES)
    token.add_argument("--crew", help="the crew a crew token is for (default crew-1)")
    token.add_argument("--liaison", help="the liaison id a liaison token is for (default hall-shonai-3)")
    token.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    service_keys = commands.add_parser(
        "service-keys", help="make the services' own signing keys and print the Secret for the chart"
    )
    service_keys.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    keys = DevKeys(args.dir).ensure()
    if args.command == "service-keys":
        files = [f"--from-file=public.json={keys.service_keys_path}"] + [
            f"--from-file={path.name.removeprefix('service-key-')}={path}"
            for path in sorted(keys.directory.glob("service-key-*.pem"))
        ]
        print("kubectl -n mynacar create secret generic mynacar-service-keys " + " ".join(files))
        return
    print(keys.demo_token(args.role, crew_id=args.crew, liaison_id=args.liaison))
    if sys.stderr.isatty():
        print(
            f"({DEMO_STAFF[args.role].subject}, valid {TOKEN_HOURS} h; send as -H 'Authorization: Bearer <token>')",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
