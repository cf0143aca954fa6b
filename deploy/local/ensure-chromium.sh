#!/usr/bin/env bash
# Makes sure the browser tests have a browser: Debian's `chromium` (Playwright drives it through
# executable_path; its own browser download is not reachable here) and the Noto CJK fonts, so that
# Japanese text renders in screenshots instead of tofu boxes. Installs only what is missing. Idempotent.
set -euo pipefail
has_cjk_fonts() {
  dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed' \
    || { command -v fc-list >/dev/null 2>&1 && fc-list :lang=ja family | grep -q 'Noto Sans CJK'; }
}
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
has_cjk_fonts || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
# shellcheck source=deploy/local/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
apt_install "${missing[@]}"
# The Debian launcher script may warn on stderr about /dev/shm; the version line is on stdout.
chromium --version 2>/dev/null | head -1
