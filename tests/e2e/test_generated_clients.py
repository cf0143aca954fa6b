"""The HTTP contract as an outside integrator meets it: a Python client generated from each OpenAPI
document (openapi-python-client), and the booking one used against the running services."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local.stack import ROOT, SERVICES
from tests.factories import booking_body

pytestmark = pytest.mark.e2e

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
# The report's files (outreach) are documented with their real types; the generator reads only
# JSON, text and octet-stream bodies, so an integrator maps the two file types to bytes, as here.
GENERATOR_CONFIG = """content_type_overrides:
  application/pdf: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


def generate(service: str, into: Path) -> subprocess.CompletedProcess:
    config = into.with_name(f"{into.name}-config.yaml")
    config.write_text(GENERATOR_CONFIG)
    return subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--config",
            str(config),
            "--path",
            str(ROOT / "docs" / "openapi" / f"{service}.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(into),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{GENERATOR.parent}:{os.environ.get('PATH', '')}"},  # its ruff post-hook
        timeout=120,
    )


@pytest.mark.parametrize("service", [spec.name for spec in SERVICES])
def test_every_document_generates_a_client_without_warnings(service, tmp_path):
    result = generate(service, tmp_path / f"mynacar_{service}_client")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_an_integrator_books_and_finds_the_booking_with_the_generated_client(stack, tmp_path, monkeypatch):
    assert generate("booking", tmp_path / "mynacar_booking_client").returncode == 0
    monkeypatch.syspath_prepend(str(tmp_path))
    client_package = importlib.import_module("mynacar_booking_client")
    post_bookings = importlib.import_module("mynacar_booking_client.api.bookings.post_bookings")
    get_bookings = importlib.import_module("mynacar_booking_client.api.bookings.get_bookings")
    models = importlib.import_module("mynacar_booking_client.models")

    body = models.BookingRequest.from_dict(booking_body(channel="web", phone="0986-22-3131"))
    answer = post_bookings.sync_detailed(client=client_package.Client(base_url=stack.url("booking")), body=body)
    assert answer.status_code == 201, answer.content
    accepted = answer.parsed
    assert accepted.reference and accepted.status == "received"

    staff = client_package.AuthenticatedClient(base_url=stack.url("booking"), token=stack.auth.token("reception"))
    found = get_bookings.sync(client=staff, phone="0986223131")
    assert [b.reference for b in found.bookings] == [accepted.reference]
    assert (
        found.bookings[0].household.applicants[0].family_name_kana
        == booking_body()["applicants"][0]["family_name_kana"]
    )
    # A nullable object stays typed and nullable: no slot yet is None, not a parse error.
    assert found.bookings[0].window is None
    assert found.bookings[0].eligibility.reasons == booking_body()["eligibility"]["reasons"]

    refused = post_bookings.sync_detailed(
        client=client_package.Client(base_url=stack.url("booking")),
        body=models.BookingRequest.from_dict(booking_body(channel="web", phone="123")),
    )
    assert refused.status_code == 422 and refused.parsed.fields[0].field == "phone"
