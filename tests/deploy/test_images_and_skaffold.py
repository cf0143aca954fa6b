"""The image pattern and skaffold.yaml, checked without a Docker engine or a cluster."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from deploy.services import SERVICES
from tests.deploy.conftest import path_of, saved_schema

DOCKERFILE = path_of("deploy", "docker", "Dockerfile")
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_hadolint_finds_nothing():
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_pins_its_base_runs_as_non_root_and_starts_the_service():
    text = DOCKERFILE.read_text()
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    pinned = re.fullmatch(r"python:3\.11\.(\d+)-slim-\w+", base)
    # Security fixes only for 3.11: 3.11.16 was the newest release when this was written; never older.
    assert pinned and int(pinned[1]) >= 16, base
    assert text.count("FROM ${PYTHON_IMAGE}") == 2  # build stage and runtime stage
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["python", "-m", "deploy.serve"]' in text
    runtime = text.split("FROM ${PYTHON_IMAGE}\n", 1)[1]
    assert not re.search(r"gcc|build-essential", runtime)
    # The runtime installs from Debian only the service's own SYSTEM_PACKAGES, without recommends.
    installs = re.findall(r"apt-get install (.*)", runtime)
    assert installs == ["-y --no-install-recommends $SYSTEM_PACKAGES \\"]


def test_the_image_copies_everything_the_entrypoint_imports():
    copied = " ".join(re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE.read_text(), re.M))
    for needed in (
        "shared/",
        "services/",
        "deploy/serve.py",
        "deploy/services.py",
        "deploy/config.yaml",
        "deploy/tools/",
    ):
        assert needed in copied
    ignore = path_of(".dockerignore").read_text()
    for needed in ("!shared/", "!services/", "!deploy/serve.py", "!deploy/services.py", "!deploy/config.yaml"):
        assert needed in ignore
    assert "!deploy/tools/" in ignore  # the operators' tools, run in the pods


def skaffold() -> dict:
    return yaml.safe_load(path_of("skaffold.yaml").read_text())


def test_skaffold_yaml_matches_the_skaffold_schema():
    schema = saved_schema("skaffold-v4beta14.json")
    document = skaffold()
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
    assert not errors, errors[0].message
    document["build"]["artifacts"][0]["docker"]["dockerfil"] = "typo"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document))


def test_skaffold_builds_one_image_per_service_and_hands_each_to_the_chart():
    document = skaffold()
    artifacts = {a["image"]: a["docker"]["buildArgs"] for a in document["build"]["artifacts"]}
    assert {image: args["SERVICE"] for image, args in artifacts.items()} == {
        f"mynacar-{s.name}": s.name for s in SERVICES
    }
    for s in SERVICES:  # each image gets the Debian packages its service declares, and no others
        assert artifacts[f"mynacar-{s.name}"].get("SYSTEM_PACKAGES", "").split() == list(s.system_packages)
    [release] = document["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "charts/mynacar"
    templates = release["setValueTemplates"]
    for service in SERVICES:
        image = f"mynacar_{service.name}"
        assert templates[f"services.{service.name}.image.repository"] == f"{{{{.IMAGE_REPO_{image}}}}}"
        assert templates[f"services.{service.name}.image.tag"] == f"{{{{.IMAGE_TAG_{image}}}}}"
    assert document["portForward"][0]["resourceName"] == "mynacar-booking"
    profiles = {p["name"]: p for p in document["profiles"]}
    assert {"dev", "production"} <= set(profiles)
    for profile in profiles.values():
        for patch in profile.get("patches", []):
            if patch["path"].endswith("valuesFiles"):
                assert all(path_of(f).is_file() for f in patch["value"])


def test_the_container_entry_refuses_an_unknown_service():
    result = subprocess.run(
        [sys.executable, "-m", "deploy.serve", "nope"], capture_output=True, text=True, cwd=path_of()
    )
    assert result.returncode == 1 and "no service called 'nope'" in result.stderr
