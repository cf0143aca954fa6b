"""Staff tokens: what is accepted, what is refused, and the object-level checks."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from deploy.local.devauth import AUDIENCE, ISSUER, KEY_ID, DevKeys
from services.scheduling.service import SchedulingService
from shared import auth, provider_keys
from shared.http import ApiError
from tests.factories import json_request, response_json, staff_token, worker


def verify(token: str) -> auth.Staff:
    return auth.verifier().verify(token)


def refused(token: str) -> bool:
    with pytest.raises(auth.ApiError) as error:
        verify(token)
    assert error.value.status == 401 and error.value.headers["WWW-Authenticate"].startswith("Bearer")
    return True


def test_a_good_token_names_the_staff_member_roles_and_scope():
    member = verify(staff_token(("crew", "not-a-role"), subject="k.tanaka", crew_id="crew-2"))
    assert member == auth.Staff("k.tanaka", frozenset({"crew"}), crew_id="crew-2")
    assert member.role == "crew"


def test_expired_foreign_or_misaddressed_tokens_are_refused(tmp_path, staff_auth):
    assert refused(staff_token("reception", hours=-1))
    assert refused(staff_token("reception", iss="https://elsewhere.example/"))
    assert refused(staff_token("reception", aud="another-app"))
    assert refused(DevKeys(tmp_path).ensure().token("reception"))  # same kid, another key
    assert refused("not.a.token")


def claims(**extra) -> dict:
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "roles": ["manager"], "exp": int(time.time()) + 600, **extra}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tokens_that_try_to_choose_their_own_algorithm_are_refused(staff_auth):
    assert refused(jwt.encode(claims(), None, algorithm="none", headers={"kid": KEY_ID}))
    # HS256 keyed with the published public key: the classic confusion attack (signed by hand,
    # since PyJWT itself will not sign with key-shaped secrets).
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KEY_ID}).encode())
    body = b64(json.dumps(claims()).encode())
    for secret in (
        staff_auth.jwks_path.read_bytes(),
        json.dumps(json.loads(staff_auth.jwks_path.read_text())["keys"][0]).encode(),
    ):
        signature = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        assert refused(f"{head}.{body}.{signature}")
    other = ec.generate_private_key(ec.SECP256R1())
    assert refused(jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "unknown"}))


def sign(keys: DevKeys, body: dict) -> str:
    signer = serialization.load_pem_private_key(keys.private_key_path.read_bytes(), password=None)
    return jwt.encode(body, signer, algorithm="ES256", headers={"kid": KEY_ID})


def test_a_token_without_a_subject_or_expiry_is_refused(staff_auth):
    assert verify(sign(staff_auth, claims())).subject == "x"
    assert refused(sign(staff_auth, {k: v for k, v in claims().items() if k != "sub"}))
    assert refused(sign(staff_auth, {k: v for k, v in claims().items() if k != "exp"}))


def test_keys_can_be_given_inline_as_a_secret_would(monkeypatch, staff_auth):
    token = staff_token("manager")
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS", json.dumps(json.loads(staff_auth.jwks_path.read_text())))
    auth.reset()
    assert verify(token).roles == {"manager"}


def test_roles_may_arrive_as_a_space_separated_claim(staff_auth):
    assert verify(sign(staff_auth, claims(roles="reception operator"))).roles == {"reception", "operator"}


def test_handlers_answer_401_403_and_let_the_right_role_through(db):
    service = worker(SchedulingService, db)
    no_token = service.list_crews(json_request(method="GET", token=None))
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"].startswith("Bearer")
    assert response_json(no_token)["message"]["ja"]
    assert service.list_crews(json_request(method="GET", token=staff_token("liaison"))).status_code == 403
    assert service.list_crews(json_request(method="GET", token=staff_token("manager"))).status_code == 200


def test_a_crew_sees_its_own_day_only(db):
    service = worker(SchedulingService, db)
    day = "2026-12-01"
    own = json_request(method="GET", token=staff_token("crew", crew_id="crew-1"))
    assert service.crew_day(own, "crew-1", day).status_code == 200
    assert service.crew_day(own, "crew-2", day).status_code == 403
    # A crew role without a crew in the token sees no crew's day.
    assert service.crew_day(json_request(method="GET", token=staff_token("crew")), "crew-1", day).status_code == 403


def test_staff_requires_known_roles():
    with pytest.raises(ValueError):
        auth.staff("admin")


@pytest.fixture
def provider(staff_auth):
    """The city's provider's jwks_uri on a local HTTP server: what it serves (`served["jwks"]`, the
    development key set at first) can change, and every path asked for is kept in `fetched`."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"jwks": staff_auth.jwks_path.read_bytes(), "fetched": [], "hold": None, "status": 200}

    class Provider(BaseHTTPRequestHandler):
        def do_GET(self):
            state["fetched"].append(self.path)
            if state["hold"] is not None:  # a slow provider: answers once the test lets it
                state["hold"].wait(10)
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state["jwks"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}/realms/city/certs"
    try:
        yield state
    finally:
        server.shutdown()
        auth.reset()


def test_keys_are_fetched_from_the_providers_jwks_uri_as_with_openid_connect(monkeypatch, staff_auth, provider):
    token = staff_token("reception")
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS_URL", provider["url"])
    auth.reset()
    assert verify(token).roles == {"reception"}
    assert verify(token).roles == {"reception"}
    assert provider["fetched"] == ["/realms/city/certs"]  # cached after the first fetch
    assert refused(DevKeys(Path(str(staff_auth.directory)) / "other").ensure().token("reception"))


def test_a_key_the_provider_removes_stops_working_once_its_key_set_is_fetched_again(monkeypatch, staff_auth, provider):
    token = staff_token("reception")
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS_URL", provider["url"])
    monkeypatch.setenv("AUTH_JWKS_CACHE_SECONDS", "0.05")  # a short trust, for the test
    auth.reset()
    assert auth.verifier().verify(token, cache=False).roles == {"reception"}
    other = json.loads(DevKeys(Path(str(staff_auth.directory)) / "rotated").ensure().jwks_path.read_text())
    provider["jwks"] = json.dumps(other).encode()  # the provider rotated: the old key is gone
    time.sleep(0.1)
    with pytest.raises(ApiError):
        auth.verifier().verify(token, cache=False)


def unknown_key_token(kid: object = "made-up") -> str:
    """A token signed by the development key but naming a key id the provider does not have."""
    good = staff_token("reception")
    header, payload, signature = good.split(".")
    forged = json.loads(base64.urlsafe_b64decode(header + "=="))
    forged["kid"] = kid
    encoded = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


def test_a_token_with_an_unknown_key_id_stalls_no_other_sign_in(monkeypatch, staff_auth, provider):
    import threading

    token, stranger_token = staff_token("reception"), unknown_key_token()
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS_URL", provider["url"])
    auth.reset()
    assert auth.verifier().verify(token, cache=False).roles == {"reception"}
    monkeypatch.setattr(provider_keys, "REFETCH_SECONDS", 0.0)  # the unknown key id fetches again at once
    provider["hold"] = threading.Event()  # ...from a provider that hangs
    stranger = threading.Thread(target=lambda: refused(stranger_token), daemon=True)
    stranger.start()
    deadline = time.monotonic() + 5
    while len(provider["fetched"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(provider["fetched"]) == 2  # the stranger's fetch is under way, and hangs
    answered = []
    member = threading.Thread(target=lambda: answered.append(auth.verifier().verify(token, cache=False)), daemon=True)
    member.start()
    member.join(5)
    still_fetching = not provider["hold"].is_set()
    provider["hold"].set()
    stranger.join(5)
    assert answered and still_fetching  # the known key answered while the other fetch hung


def test_a_flood_of_unknown_key_ids_fetches_the_keys_once_and_odd_key_ids_are_refused(
    monkeypatch, staff_auth, provider
):
    token = staff_token("reception")
    strangers = [unknown_key_token(f"made-up-{n}") for n in range(20)]
    odd = [unknown_key_token(kid) for kid in (7, ["a"], {"k": 1})]
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS_URL", provider["url"])
    auth.reset()
    assert verify(token).roles == {"reception"}
    assert all(refused(stranger) for stranger in strangers[:10])
    assert len(provider["fetched"]) == 1  # the set was fetched moments ago: no new look yet
    monkeypatch.setattr(provider_keys, "REFETCH_SECONDS", 0.05)
    time.sleep(0.1)
    assert all(refused(stranger) for stranger in strangers[10:])
    assert len(provider["fetched"]) == 2  # one look for a rotated key, not ten
    assert all(refused(token) for token in odd)


def test_while_the_provider_is_away_its_last_keys_hold_and_nobody_waits_on_it_again(monkeypatch, staff_auth, provider):
    token, other = staff_token("reception"), staff_token("crew")
    monkeypatch.delenv("AUTH_JWKS_FILE")
    monkeypatch.setenv("AUTH_JWKS_URL", provider["url"])
    monkeypatch.setenv("AUTH_JWKS_CACHE_SECONDS", "0.05")
    auth.reset()
    assert auth.verifier().verify(token, cache=False).roles == {"reception"}
    provider["status"] = 503  # the provider goes away, and the key set grows old
    time.sleep(0.1)
    for _ in range(5):
        assert auth.verifier().verify(other, cache=False).roles == {"crew"}
    assert len(provider["fetched"]) == 2  # one look that failed; the next sign-ins did not wait on another
