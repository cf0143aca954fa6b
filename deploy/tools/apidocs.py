"""Writes the generated files: the contract documents into docs/, and the deploy files that list the
services (deploy/tools/deployfiles.py): `python -m deploy.tools.apidocs` (or `make docs`). A test
fails when a file is not what the code generates."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from deploy.services import SERVICES
from deploy.tools import asyncapi, deployfiles

ROOT = Path(__file__).resolve().parents[2]


def rendered() -> dict[Path, str]:
    def dump(document: dict) -> str:
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)

    files = {ROOT / "docs" / "asyncapi.yaml": dump(asyncapi.document())}
    for service in SERVICES:
        api = importlib.import_module(f"services.{service.name}.api")
        files[ROOT / "docs" / "openapi" / f"{service.name}.yaml"] = dump(api.OPENAPI)
    return files | deployfiles.rendered()


def main() -> None:
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
