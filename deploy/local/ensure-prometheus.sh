#!/usr/bin/env bash
# Makes sure Prometheus's own tools are here: promtool (rule checks and unit tests, metrics lint) and
# the prometheus server (the chart-driven local run scrapes the services with it). Installs Debian's
# `prometheus` package when absent, without starting its system service. Idempotent.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
echo "Installing prometheus (Debian package: promtool and the server)..."
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package must not start a system-wide server; the tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
  $sudo_cmd chmod +x "$policy"
  created_policy=1
fi
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
[ -n "$created_policy" ] && $sudo_cmd rm -f "$policy"
promtool --version | head -1
