"""The published contracts pass the strict tools an outside team would run on them: the AsyncAPI
CLI (no errors), Redocly's recommended rules and Spectral's `spectral:oas` rules (no warnings; the
two Redocly rules switched off say why in redocly.yaml). `make test` installs the pinned tools with
`npm ci` here (package-lock.json). Their telemetry is switched off: nothing leaves this machine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = HERE / "node_modules" / ".bin"
OPENAPI = sorted(str(p) for p in (ROOT / "docs" / "openapi").glob("*.yaml"))
QUIET = {
    **os.environ,
    "ASYNCAPI_METRICS_CONFIG_PATH": str(HERE / "asyncapi-analytics.json"),
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "SUPPRESS_NO_CONFIG_WARNING": "true",
    "NO_COLOR": "1",
}


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    executable = BIN / tool
    if not executable.exists():
        pytest.fail(f"{executable} is missing: `make contract-tools` (part of `make test`) installs it")
    return subprocess.run([str(executable), *args], capture_output=True, text=True, env=QUIET, cwd=HERE, timeout=300)


def test_the_asyncapi_document_validates_without_errors():
    result = run("asyncapi", "validate", str(ROOT / "docs" / "asyncapi.yaml"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 errors" in output and " is valid" in output, output


def test_the_openapi_documents_pass_redoclys_recommended_rules():
    result = run("redocly", "lint", "--config", str(HERE / "redocly.yaml"), *OPENAPI)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.replace("Deprecation warning", "").lower(), output


def test_the_openapi_documents_pass_spectrals_oas_rules():
    result = run("spectral", "lint", "-r", str(HERE / ".spectral.yaml"), "--fail-severity=warn", *OPENAPI)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linters_are_not_rubber_stamps(tmp_path):
    """An operation without an operationId fails Spectral; an AsyncAPI version that does not exist
    fails the AsyncAPI CLI."""
    broken = (ROOT / "docs" / "openapi" / "liaison.yaml").read_text().replace("operationId: post_referrals\n", "", 1)
    broken_path = tmp_path / "liaison.yaml"
    broken_path.write_text(broken)
    assert run(
        "spectral", "lint", "-r", str(HERE / ".spectral.yaml"), "--fail-severity=warn", str(broken_path)
    ).returncode
    asyncapi = (ROOT / "docs" / "asyncapi.yaml").read_text().replace("asyncapi: 2.6.0", "asyncapi: 2.6.9", 1)
    asyncapi_path = tmp_path / "asyncapi.yaml"
    asyncapi_path.write_text(asyncapi)
    assert run("asyncapi", "validate", str(asyncapi_path)).returncode
