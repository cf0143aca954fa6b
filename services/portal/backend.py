"""The portal is a backend-for-frontend: every screen calls the services' documented HTTP APIs with
the signed-in staff member's own token, so roles, object-level checks and the audit log stay where
they are. This module is the one place that makes those calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from shared.settings import env

TIMEOUT_SECONDS = 10
SERVICES = ("booking", "scheduling", "notification", "outreach", "liaison")


def service_urls() -> dict[str, str]:
    """BOOKING_URL and so on; in the cluster each service answers on port 8000 of its own name."""
    return {name: env(f"{name.upper()}_URL", f"http://mynacar-{name}:8000").rstrip("/") for name in SERVICES}


class ServiceUnavailable(Exception):
    """The service did not answer, or answered 5xx: nothing can be said about the request's fate
    beyond what the page says (try again)."""


@dataclass(frozen=True)
class Download:
    """A file a service answered with (or its JSON error, in `content`)."""

    status: int
    content: bytes
    content_type: str
    disposition: str

    def answer(self) -> Answer:
        try:
            body = json.loads(self.content)
        except ValueError:
            body = None
        return Answer(self.status, body)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field_errors(self) -> list[dict]:
        """The API's [{field, ja, en}] for a 422, else nothing."""
        if self.status == 422 and isinstance(self.body, dict):
            return list(self.body.get("fields") or [])
        return []

    def message(self) -> str:
        """The API's Japanese message."""
        if isinstance(self.body, dict):
            return str((self.body.get("message") or {}).get("ja") or "")
        return ""


class Backend:
    _http = requests.Session()  # one connection pool per process

    def __init__(self, access_token: str, urls: dict[str, str] | None = None, scheme: str = "Bearer") -> None:
        self.urls = urls or service_urls()
        self.headers = {"Authorization": f"{scheme} {access_token}"}

    @classmethod
    def for_resident(cls, client: str, link_token: str | None = None) -> Backend:
        """Calls for a resident on the public pages: no staff token, the resident's address passed
        on for booking's per-client rate limit (the portal is the proxy booking trusts for it), and
        their private link when they have one."""
        backend = cls("")
        backend.headers = {"X-Forwarded-For": client}
        if link_token:
            backend.headers["Authorization"] = f"BookingLink {link_token}"
        return backend

    def _send(self, service: str, method: str, path: str, params: dict | None, body: Any) -> requests.Response:
        try:
            answer = self._http.request(
                method,
                f"{self.urls[service]}{path}",
                params=params,
                json=body,
                headers=self.headers,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise ServiceUnavailable(f"{service} unreachable: {type(error).__name__}") from None
        if answer.status_code >= 500:
            raise ServiceUnavailable(f"{service} answered {answer.status_code}")
        return answer

    def call(self, service: str, method: str, path: str, params: dict | None = None, body: Any = None) -> Answer:
        answer = self._send(service, method, path, params, body)
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        return Answer(answer.status_code, payload)

    def get(self, service: str, path: str, **params: Any) -> Answer:
        return self.call(service, "GET", path, params={k: v for k, v in params.items() if v is not None})

    def download(self, service: str, path: str, **params: Any) -> Download:
        answer = self._send(service, "GET", path, {k: v for k, v in params.items() if v is not None}, None)
        return Download(
            answer.status_code,
            answer.content,
            answer.headers.get("Content-Type", "application/octet-stream"),
            answer.headers.get("Content-Disposition", "attachment"),
        )

    def post(self, service: str, path: str, body: Any = None) -> Answer:
        return self.call(service, "POST", path, body=body if body is not None else {})
