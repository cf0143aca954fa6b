"""Adds an outreach channel: `python -m deploy.tools.new_channel minsei --title 民生委員`.

It writes one folder, `services/<name>/` (a working channel: referrers sign in with the city's
provider as role `liaison` and refer residents; the referral leaves as `outreach.referral_received`
with routing key `referral.<name>`), its unit test `tests/unit/test_<name>_channel.py`, and one
entry in deploy/services.py; then `make docs` regenerates the contract documents, the chart's
service facts and skaffold.yaml. No existing service changes (tests/deploy/test_new_channel.py)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).resolve().parent / "channel_template"
NAME = re.compile(r"^[a-z][a-z0-9]{1,19}$")  # a module name, a URL segment and a routing key alike


def entry(name: str, title: str, port: int) -> str:
    return (
        "    ServiceSpec(\n"
        f'        "{name}",\n'
        f'        "services.{name}.service:{name.capitalize()}ChannelService",\n'
        f"        {port},\n"
        f'        home="/api/v1/{name}-referrals",\n'
        f'        summary="the {title} outreach channel",\n'
        '        needs=("data_keys",),\n'
        "        channel=True,\n"
        "    ),\n"
    )


def add_entry(services_py: Path, name: str, title: str) -> None:
    """Appends the channel to SERVICES, on the next free local port."""
    from deploy.services import SERVICES

    port = max(spec.port for spec in SERVICES) + 1
    text = services_py.read_text(encoding="utf-8")
    end = text.index("\n)\n", text.index("SERVICES = (\n")) + 1
    services_py.write_text(text[:end] + entry(name, title, port) + text[end:], encoding="utf-8")


def write_files(name: str, title: str) -> list[Path]:
    values = {"name": name, "Class": name.capitalize(), "title": title, "path": name}
    targets = {
        "__init__.py.tmpl": ROOT / "services" / name / "__init__.py",
        "schemas.py.tmpl": ROOT / "services" / name / "schemas.py",
        "api.py.tmpl": ROOT / "services" / name / "api.py",
        "service.py.tmpl": ROOT / "services" / name / "service.py",
        "test_channel.py.tmpl": ROOT / "tests" / "unit" / f"test_{name}_channel.py",
    }
    for template, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template((TEMPLATE / template).read_text(encoding="utf-8")).substitute(values), "utf-8")
    return list(targets.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="lower-case letters and digits, e.g. minsei")
    parser.add_argument("--title", required=True, help="what staff call it, e.g. 民生委員")
    args = parser.parse_args(argv)
    if not NAME.match(args.name):
        parser.error("the name must be 2-20 lower-case letters and digits, starting with a letter")
    if (ROOT / "services" / args.name).exists():
        parser.error(f"services/{args.name} exists already")
    for path in write_files(args.name, args.title):
        print(f"wrote {path.relative_to(ROOT)}")
    add_entry(ROOT / "deploy" / "services.py", args.name, args.title)
    print("added it to deploy/services.py")
    subprocess.run([sys.executable, "-m", "deploy.tools.apidocs"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
