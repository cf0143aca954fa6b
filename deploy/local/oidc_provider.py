"""A development OpenID Connect provider for `make run` and the tests: the authorization code flow
with PKCE, built on Authlib's provider framework, so the portal signs staff in exactly as it does
against the city's real provider.

Who signs in is chosen on a page listing the demo staff (one per role, deploy.local.devauth); there
is no password. ID tokens and the access tokens the portal forwards to the APIs are JWTs signed
with the development key the services already trust (var/auth/), the access tokens carrying the
roles and the crew or liaison id. Never for production: the chart has no way to run it.

    python -m deploy.local.oidc_provider --port 8009 --auth-dir var/auth --client-secret-file F
"""

from __future__ import annotations

import argparse
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import ECKey, KeySet

from deploy.local.devauth import AUDIENCE, DEMO_STAFF, KEY_ID, DemoStaff, DevKeys

CLIENT_ID = "mynacar-portal"
TOKEN_SECONDS = 8 * 3600
CODE_SECONDS = 300

ROLE_NAMES = {
    "reception": "受付",
    "crew": "訪問班",
    "liaison": "公民館長（紹介）",
    "manager": "管理者",
    "operator": "運用担当",
}


@dataclass
class Client(ClientMixin):
    """The portal: a confidential client with a secret and the redirect URIs it was given."""

    client_id: str
    secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def expired(self) -> bool:
        return time.time() > self.auth_time + CODE_SECONDS


@dataclass(frozen=True)
class User:
    staff: DemoStaff

    def get_user_id(self) -> str:
        return self.staff.subject


class RequiredPkce(CodeChallenge):
    """PKCE with S256 for every client, confidential ones too (RFC 9700 recommends it; Authlib's
    own extension insists only for public clients), so the portal's use of it is tested."""

    def validate_code_challenge(self, grant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


def staff_claims(staff: DemoStaff) -> dict:
    """What the services read from an access token (shared.auth): roles and the scope ids."""
    claims: dict = {"roles": [staff.role]}
    if staff.crew_id:
        claims["crew_id"] = staff.crew_id
    if staff.liaison_id:
        claims["liaison_id"] = staff.liaison_id
    return claims


def create_app(issuer: str, keys: DevKeys, client: Client) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": TOKEN_SECONDS}
    private_key = ECKey.import_key(keys.private_key_path.read_bytes(), {"kid": KEY_ID, "alg": "ES256", "use": "sig"})
    codes: dict[str, Code] = {}
    users = {s.subject: User(s) for s in DEMO_STAFF.values()}

    class AccessTokens(JWTBearerTokenGenerator):
        def get_jwks(self) -> KeySet:
            return KeySet([private_key])

        def get_audiences(self, client: ClientMixin, user: User, scope: str) -> str:
            return AUDIENCE

        def get_extra_claims(self, client: ClientMixin, grant_type: str, user: User, scope: str) -> dict:
            return staff_claims(user.staff)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request) -> None:
            payload = request.payload
            codes[code] = Code(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=payload.redirect_uri,
                scope=payload.scope,
                subject=request.user.get_user_id(),
                nonce=payload.data.get("nonce"),
                code_challenge=payload.data.get("code_challenge"),
                code_challenge_method=payload.data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: ClientMixin) -> Code | None:
            found = codes.get(code)
            if found and found.client_id == client.get_client_id() and not found.expired():
                return found
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> User | None:
            return users.get(authorization_code.subject)

    class IdTokens(OpenIDCode):
        def resolve_client_private_key(self, client: ClientMixin) -> ECKey:
            return private_key

        def get_client_algorithm(self, client: ClientMixin) -> str:
            return "ES256"

        def get_encode_header(self, client: ClientMixin) -> dict:
            return {"alg": "ES256", "kid": KEY_ID}

        def get_client_claims(self, client: ClientMixin) -> dict:
            now = int(time.time())
            return {"iss": issuer, "aud": [client.get_client_id()], "exp": now + TOKEN_SECONDS}

        def exists_nonce(self, nonce: str, request) -> bool:
            return any(c.nonce == nonce for c in codes.values())

        def generate_user_info(self, user: User, scope: str) -> UserInfo:
            return UserInfo(sub=user.get_user_id(), name=ROLE_NAMES[user.staff.role], **staff_claims(user.staff))

    server = AuthorizationServer(
        app,
        query_client=lambda client_id: client if client_id == client.client_id else None,
        save_token=lambda token, request: None,  # JWTs: nothing to look up later
    )
    server.register_token_generator("default", AccessTokens(issuer=issuer, alg="ES256"))
    server.register_grant(CodeGrant, [IdTokens(require_nonce=True), RequiredPkce(required=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> flask.Response:
        return flask.jsonify(
            issuer=issuer,
            authorization_endpoint=f"{issuer}/authorize",
            token_endpoint=f"{issuer}/token",
            jwks_uri=f"{issuer}/jwks",
            end_session_endpoint=f"{issuer}/logout",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["ES256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            scopes_supported=["openid", "profile"],
        )

    @app.get("/jwks")
    def jwks() -> flask.Response:
        return flask.Response(keys.jwks_path.read_text(), mimetype="application/json")

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        try:
            grant = server.get_consent_grant(end_user=None)
        except Exception as error:
            return flask.render_template_string(ERROR_PAGE, error=str(error)), 400
        if flask.request.method == "GET":
            return flask.render_template_string(SIGN_IN_PAGE, staff=DEMO_STAFF.values(), role_names=ROLE_NAMES)
        user = users.get(flask.request.form.get("subject", ""))
        if user is None:
            return flask.render_template_string(
                SIGN_IN_PAGE, staff=DEMO_STAFF.values(), role_names=ROLE_NAMES, missing=True
            ), 400
        return server.create_authorization_response(grant=grant, grant_user=user)

    @app.post("/token")
    def token():
        return server.create_token_response()

    @app.get("/logout")
    def logout():
        target = flask.request.args.get("post_logout_redirect_uri", "")
        allowed = {urlsplit(u)._replace(path="/").geturl() for u in client.redirect_uris}
        if target and urlsplit(target)._replace(path="/", query="").geturl() in allowed:
            return flask.redirect(target)
        return flask.render_template_string(SIGNED_OUT_PAGE)

    @app.after_request
    def headers(response: flask.Response) -> flask.Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; form-action 'self' http: https:"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


PAGE_HEAD = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">"""

SIGN_IN_PAGE = (
    PAGE_HEAD
    + """<title>ログイン（開発用）</title></head>
<body><main>
<h1>ログイン（開発用の認証画面）</h1>
<p>本番では市の認証基盤でログインします。ここでは、ログインする職員を選んでください。</p>
{% if missing %}<p role="alert"><strong>職員を選んでください。</strong></p>{% endif %}
<form method="post">
<fieldset><legend>ログインする職員</legend>
{% for s in staff %}
<p><input type="radio" name="subject" id="s-{{ s.subject }}" value="{{ s.subject }}"
{%- if loop.first %} checked{% endif %}>
<label for="s-{{ s.subject }}">{{ role_names[s.role] }}（{{ s.subject }}）</label></p>
{% endfor %}
</fieldset>
<p><button type="submit">ログイン</button></p>
</form></main></body></html>"""
)

SIGNED_OUT_PAGE = (
    PAGE_HEAD
    + """<title>ログアウトしました</title></head>
<body><main><h1>ログアウトしました</h1></main></body></html>"""
)

ERROR_PAGE = (
    PAGE_HEAD
    + """<title>ログインできません</title></head>
<body><main><h1>ログインできません</h1><p>{{ error }}</p></main></body></html>"""
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.oidc_provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8009)
    parser.add_argument("--auth-dir", type=Path, required=True)
    parser.add_argument("--client-secret-file", type=Path, required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    args = parser.parse_args()
    issuer = f"http://{args.host}:{args.port}"
    client = Client(CLIENT_ID, args.client_secret_file.read_text().strip(), args.redirect_uri)
    app = create_app(issuer, DevKeys(args.auth_dir, issuer=issuer).ensure(), client)
    from werkzeug.serving import run_simple

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
