"""Adding an outreach channel is one new folder and one entry (ADR 1): in a copy of the repository,
`deploy.tools.new_channel` adds a 民生委員 channel; the diff touches no existing service, and the
channel's own tests, the contract documents, the chart and skaffold checks all pass with it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.chart import ROOT


def git(copy: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.jp"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.jp"}
    return subprocess.run(["git", *args], cwd=copy, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository's files as they are now (tracked and new, not ignored), committed in a new
    repo; then the channel is added there."""
    copy = tmp_path_factory.mktemp("repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "before the channel")
    made = run(copy, "-m", "deploy.tools.new_channel", "minsei", "--title", "民生委員")
    assert made.returncode == 0, made.stderr
    return copy


def run(copy: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)


def test_a_new_channel_is_one_folder_and_one_entry(copy):
    changed = sorted(git(copy, "status", "--porcelain", "--untracked-files=all").splitlines())
    assert changed == [
        " M charts/mynacar/files/services.json",  # generated
        " M deploy/services.py",  # the one entry
        " M skaffold.yaml",  # generated
        "?? docs/openapi/minsei.yaml",  # generated
        "?? services/minsei/__init__.py",
        "?? services/minsei/api.py",
        "?? services/minsei/schemas.py",
        "?? services/minsei/service.py",
        "?? tests/unit/test_minsei_channel.py",
    ]
    diff = git(copy, "diff", "-U0", "deploy/services.py").splitlines()
    assert not [line for line in diff if line.startswith("-") and not line.startswith("---")]
    assert sum(line.startswith("+") and not line.startswith("+++") for line in diff) == 9  # one ServiceSpec

    # Everything that lists services takes it in: its own tests, the documents, the chart, skaffold.
    checks = run(
        copy,
        "-m",
        "pytest",
        "-q",
        "tests/unit/test_minsei_channel.py",
        "tests/unit/test_contract_docs.py",
        "tests/deploy/test_chart_render.py",
        "tests/deploy/test_chart_policy.py",
        "tests/deploy/test_images_and_skaffold.py",
    )
    assert checks.returncode == 0, checks.stdout[-3000:] + checks.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", checks.stdout)[1])
    assert passed > 100  # the channel's own three, and the documents', chart's and skaffold's checks


def test_the_chart_deploys_the_new_channel_and_routes_its_api(copy):
    rendered = run(
        copy,
        "-c",
        "import json; from deploy.chart import render_manifests; "
        "print(json.dumps(render_manifests({'ingress': {'enabled': True}})))",
    )
    assert rendered.returncode == 0, rendered.stderr
    objects = json.loads(rendered.stdout.splitlines()[-1])
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for kind in ("Deployment", "Service", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget"):
        assert (kind, "mynacar-minsei") in names
    [ingress] = [o for o in objects if o["kind"] == "Ingress"]
    staff_paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][1]["http"]["paths"]}
    assert staff_paths["/api/v1/minsei-referrals"] == "mynacar-minsei"
    [deployment] = [o for o in objects if (o["kind"], o["metadata"]["name"]) == ("Deployment", "mynacar-minsei")]
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "DATA_KEYS" in env  # it seals what it sends
