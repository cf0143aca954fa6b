"""Signing staff in with the city's OpenID Connect provider: the authorization code flow with PKCE
(Authlib's OAuth 2.0 client), the ID token checked for signature, issuer, audience and nonce
(PyJWT, as shared.auth checks access tokens)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

from shared.settings import env

TIMEOUT_SECONDS = 5
DISCOVERY_SECONDS = 3600  # the provider's metadata is read again after this
LEEWAY_SECONDS = 30


class SignInFailed(Exception):
    """The provider refused, or answered something we cannot trust. The message is for the log
    (no personal data); the person sees a Japanese page that says to sign in again."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    base_url: str  # where the portal is reached, e.g. https://staff.mynacar.example.jp

    @classmethod
    def from_env(cls) -> OidcSettings:
        secret_file = env("OIDC_CLIENT_SECRET_FILE", "")
        secret = Path(secret_file).read_text().strip() if secret_file else env("OIDC_CLIENT_SECRET", "")
        return cls(
            issuer=env("OIDC_ISSUER", "http://127.0.0.1:8009").rstrip("/"),
            client_id=env("OIDC_CLIENT_ID", "mynacar-portal"),
            client_secret=secret,
            base_url=env("PORTAL_BASE_URL", "http://127.0.0.1:8006").rstrip("/"),
        )

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/auth/callback"


class Provider:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict | None = None
        self._read_at = 0.0
        self._keys: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._read_at > DISCOVERY_SECONDS:
                url = f"{self.settings.issuer}/.well-known/openid-configuration"
                try:
                    answer = requests.get(url, timeout=TIMEOUT_SECONDS)
                    answer.raise_for_status()
                    metadata = answer.json()
                except (requests.RequestException, ValueError) as error:
                    raise SignInFailed(f"provider metadata unavailable: {type(error).__name__}") from None
                if metadata.get("issuer", "").rstrip("/") != self.settings.issuer:
                    raise SignInFailed("provider metadata names another issuer")
                self._metadata, self._read_at = metadata, time.monotonic()
                self._keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True, timeout=TIMEOUT_SECONDS)
            return self._metadata

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id,
            self.settings.client_secret,
            scope="openid profile",
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
        )

    def authorization_url(self, state: str, nonce: str, code_verifier: str) -> str:
        url, _ = self._client().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=code_verifier
        )
        return url

    def exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        """The provider's tokens for this code; SignInFailed if it refuses."""
        try:
            return dict(
                self._client().fetch_token(
                    self.metadata()["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    timeout=TIMEOUT_SECONDS,
                )
            )
        except Exception as error:  # Authlib's OAuthError, requests' errors: all mean "no sign-in"
            raise SignInFailed(f"token exchange failed: {type(error).__name__}") from None

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        self.metadata()
        assert self._keys is not None
        try:
            key = self._keys.get_signing_key_from_jwt(id_token).key
            claims = jwt.decode(
                id_token,
                key,
                algorithms=["ES256", "RS256", "PS256", "EdDSA"],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub", "nonce"]},
            )
        except (jwt.PyJWTError, ValueError, KeyError) as error:
            raise SignInFailed(f"ID token refused: {type(error).__name__}") from None
        if claims.get("nonce") != nonce:
            raise SignInFailed("ID token nonce does not match")
        return claims

    def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except SignInFailed:
            return None
        if not endpoint:
            return None
        return str(
            requests.Request(
                "GET",
                endpoint,
                params={"client_id": self.settings.client_id, "post_logout_redirect_uri": post_logout_redirect_uri},
            )
            .prepare()
            .url
        )
