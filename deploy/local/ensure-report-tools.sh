#!/usr/bin/env bash
# Makes sure the progress report's PDF can be made and read here: Pango (WeasyPrint lays out text
# with it) and the Noto CJK fonts it embeds, for `make run`; and poppler-utils (pdftotext, pdftoppm),
# with which the tests read the PDF's text and render its pages as a person sees them. Debian
# packages; installs only what is missing. Idempotent.
set -euo pipefail
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk poppler-utils; do
  installed "$package" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
# shellcheck source=deploy/local/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
apt_install "${missing[@]}"
