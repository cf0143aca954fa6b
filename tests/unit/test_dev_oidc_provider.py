"""The development OpenID provider `make run` starts: the code flow with PKCE as a real provider
runs it (Authlib's server), tokens the services accept, and refusals where a provider must refuse."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from deploy.local.oidc_provider import CLIENT_ID, Client, create_app
from shared.auth import AuthSettings, Verifier

ISSUER = "http://127.0.0.1:18109"
REDIRECT = "http://127.0.0.1:18106/auth/callback"


@pytest.fixture
def provider(auth_keys):
    keys = type(auth_keys)(auth_keys.directory, issuer=ISSUER)
    app = create_app(ISSUER, keys, Client(CLIENT_ID, "s3cret", [REDIRECT]))
    return app.test_client(), keys


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(client, subject="demo-crew-1", verifier="v" * 50, **overrides):
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st",
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.post(
        "/authorize", query_string={k: v for k, v in params.items() if v is not None}, data={"subject": subject}
    )


def token(client, code, verifier="v" * 50, secret="s3cret"):
    return client.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        headers={"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()},
    )


def code_of(answer) -> str:
    assert answer.status_code == 302, answer.get_data(as_text=True)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st"]
    return query["code"][0]


def test_the_code_flow_gives_tokens_the_services_accept_with_the_staff_members_role(provider):
    client, keys = provider
    tokens = token(client, code_of(authorize(client))).get_json()
    settings = AuthSettings(ISSUER, "mynacar", "", str(keys.jwks_path), "", "roles", "crew_id", "liaison_id")
    member = Verifier(settings).verify(tokens["access_token"])
    assert member.subject == "demo-crew-1" and member.roles == {"crew"} and member.crew_id == "crew-1"
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_claims["aud"] == [CLIENT_ID] and id_claims["nonce"] and id_claims["iss"] == ISSUER


def test_a_code_is_good_once_and_only_with_its_verifier_and_the_clients_secret(provider):
    client, _ = provider
    code = code_of(authorize(client))
    assert token(client, code, verifier="w" * 50).status_code == 400  # PKCE: another verifier
    code = code_of(authorize(client))
    assert token(client, code, secret="wrong").status_code in (400, 401)
    code = code_of(authorize(client))
    assert token(client, code).status_code == 200
    assert token(client, code).status_code == 400  # used already


def test_requests_without_pkce_a_nonce_or_a_known_redirect_are_refused(provider):
    client, _ = provider
    assert authorize(client, code_challenge=None, code_challenge_method=None).status_code == 400
    assert authorize(client, code_challenge_method="plain").status_code == 400
    assert authorize(client, nonce=None).status_code == 400
    assert authorize(client, nonce="same").status_code == 302
    assert authorize(client, nonce="same").status_code == 400  # a replayed nonce
    assert authorize(client, redirect_uri="http://evil.example/cb").status_code == 400
    assert authorize(client, subject="nobody").status_code == 400
    assert "職員を選んでください" in authorize(client, subject="nobody").get_data(as_text=True)


def test_discovery_names_the_issuer_and_its_keys(provider):
    client, keys = provider
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["issuer"] == ISSUER and metadata["code_challenge_methods_supported"] == ["S256"]
    assert client.get("/jwks").get_json() == __import__("json").loads(keys.jwks_path.read_text())
    assert secrets.compare_digest(metadata["jwks_uri"], f"{ISSUER}/jwks")
