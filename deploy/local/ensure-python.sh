#!/usr/bin/env bash
# Creates the project's virtualenv; installs Debian's venv module first where it is missing.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
[ -x "$venv/bin/python" ] && exit 0
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
if ! command -v "$python" >/dev/null; then
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq python3 python3-venv
fi
if ! "$python" -m venv --help >/dev/null 2>&1; then
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq python3-venv
fi
"$python" -m venv "$venv"
