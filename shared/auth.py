"""Staff sign-in: bearer JWTs from the city's OpenID Connect provider (or the local development key),
checked for signature, issuer, audience and expiry, and the roles they carry.

Keys come from configuration, never from the token: a JWKS document inline (AUTH_JWKS, e.g. from a
Kubernetes Secret), in a file (AUTH_JWKS_FILE, what `make run` writes) or at the provider's jwks_uri
(AUTH_JWKS_URL, fetched and cached). Only asymmetric algorithms are accepted, so a service that can
verify a token cannot mint one, and `alg: none` or HS256 with the public key as secret are refused."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from werkzeug.wrappers import Request, Response

from shared.http import ApiError
from shared.provider_keys import ProviderKeys
from shared.settings import env

ROLES = ("reception", "crew", "liaison", "manager", "operator")
ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]
LEEWAY_SECONDS = 30
# A verified token is remembered this long (never past its expiry): a signature check costs about
# half a booking validation, and a staff screen sends the same token with every request.
CACHE_SECONDS = 300
CACHE_SIZE = 2048

WWW_AUTHENTICATE = 'Bearer realm="mynacar"'


@dataclass(frozen=True)
class Staff:
    """Who is calling, as the token says. crew_id and liaison_id scope object-level checks."""

    subject: str
    roles: frozenset[str]
    crew_id: str | None = None
    liaison_id: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role(self) -> str:
        """One role for the audit log and logs: the first the token holds, in ROLES order."""
        return next((role for role in ROLES if role in self.roles), "")


def unauthorised(en: str, ja: str) -> ApiError:
    return ApiError(401, "unauthorised", en, ja, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "Your role does not allow this.", "この操作を行う権限がありません。")


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    jwks: str  # inline JSON
    jwks_file: str
    jwks_url: str
    roles_claim: str
    crew_claim: str
    liaison_claim: str
    # How long the provider's key set is trusted before it is fetched again: a key the provider
    # removes stops working within this time (plus CACHE_SECONDS for a token already verified).
    jwks_seconds: float = 300

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            issuer=env("AUTH_ISSUER", "https://mynacar.invalid/dev"),
            audience=env("AUTH_AUDIENCE", "mynacar"),
            jwks=env("AUTH_JWKS", ""),
            jwks_file=env("AUTH_JWKS_FILE", ""),
            jwks_url=env("AUTH_JWKS_URL", ""),
            roles_claim=env("AUTH_ROLES_CLAIM", "roles"),
            crew_claim=env("AUTH_CREW_CLAIM", "crew_id"),
            liaison_claim=env("AUTH_LIAISON_CLAIM", "liaison_id"),
            jwks_seconds=float(env("AUTH_JWKS_CACHE_SECONDS", "300")),
        )


class Verifier:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        # The key set is kept for jwks_seconds, each key with it, so a key the provider removed stops
        # working; an unknown key id stalls no other sign-in (shared/provider_keys.py).
        self._provider = ProviderKeys(settings.jwks_url, settings.jwks_seconds) if settings.jwks_url else None
        self._keys = self._static_keys(settings)
        self._verified: dict[str, tuple[Staff, float]] = {}

    @staticmethod
    def _static_keys(settings: AuthSettings) -> dict[str, jwt.PyJWK]:
        text = settings.jwks or (Path(settings.jwks_file).read_text() if settings.jwks_file else "")
        if not text:
            return {}
        keys = jwt.PyJWKSet.from_dict(json.loads(text)).keys
        return {key.key_id or "": key for key in keys}

    def _key(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid") or ""
        if not isinstance(kid, str):  # a number or a list where a key id belongs names no key
            raise jwt.InvalidKeyError("malformed key id")
        if self._provider is not None:
            return self._provider.key(kid).key
        if kid not in self._keys:
            raise jwt.InvalidKeyError("unknown key id")
        return self._keys[kid].key

    def verify(self, token: str, cache: bool = True) -> Staff:
        """The staff member the token names; ApiError 401 for any fault, without saying which."""
        now = time.time()
        if cache and token in self._verified:
            member, until = self._verified[token]
            if now < until:
                return member
            del self._verified[token]
        member, expires = self._check(token)
        if cache:
            if len(self._verified) >= CACHE_SIZE:
                self._verified.clear()  # rare: more distinct live tokens than staff on shift
            self._verified[token] = (member, min(expires, now + CACHE_SECONDS))
        return member

    def _check(self, token: str) -> tuple[Staff, float]:
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError, KeyError):
            raise unauthorised(
                "The sign-in token is invalid or has expired.",
                "ログイン情報が無効か期限切れです。もう一度ログインしてください。",
            ) from None
        roles = claims.get(self.settings.roles_claim) or []
        if isinstance(roles, str):
            roles = roles.split()
        member = Staff(
            subject=str(claims["sub"]),
            roles=frozenset(role for role in roles if role in ROLES),
            crew_id=_optional_str(claims.get(self.settings.crew_claim)),
            liaison_id=_optional_str(claims.get(self.settings.liaison_claim)),
        )
        return member, float(claims["exp"])


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


_verifier: Verifier | None = None
_verifier_lock = threading.Lock()


def verifier() -> Verifier:
    """One per process, from the environment (the JWKS client caches the provider's keys)."""
    global _verifier
    with _verifier_lock:
        if _verifier is None:
            _verifier = Verifier(AuthSettings.from_env())
        return _verifier


def reset() -> None:
    """Forget the verifier, so the next call reads the environment again (tests, key rotation)."""
    global _verifier
    with _verifier_lock:
        _verifier = None


def authenticate(request: Request) -> Staff:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorised("Sign in first: this needs a staff token.", "職員としてのログインが必要です。")
    return verifier().verify(token.strip())


# A service's own sign-in besides the city's tokens: its Authorization scheme, and how the service
# (the handler's `self`) turns such a token into a caller, or None when it is not valid.
OtherScheme = tuple[str, Callable[[Any, str], "Staff | None"]]


def staff(
    *roles: str, other: OtherScheme | None = None
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Lets through callers holding one of `roles`, and hands the handler who they are (`staff=`).
    `other`: a scheme the service signs in itself (the liaison channel's community-hall chairs).
    Place it under @api, which turns the 401 and 403 into answers."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"roles must be some of {ROLES}, got {roles}")

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if other is not None and scheme == other[0]:
                member = other[1](self, token.strip()) if token.strip() else None
                if member is None:
                    raise unauthorised(
                        "The sign-in has expired.", "ログインの期限が切れました。もう一度ログインしてください。"
                    )
            else:
                member = authenticate(request)
            if not member.has(*roles):
                raise forbidden()
            return handler(self, request, *args, staff=member, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorate


def require_owner(member: Staff, owner: str | None, scope: str, unrestricted: tuple[str, ...]) -> None:
    """The object-level check: holders of an `unrestricted` role see every object; a holder of the
    `scope` role ("crew" or "liaison") only objects whose owner is their own crew or liaison id."""
    if member.has(*unrestricted):
        return
    own = {"crew": member.crew_id, "liaison": member.liaison_id}[scope]
    if member.has(scope) and own is not None and owner == own:
        return
    raise forbidden()
