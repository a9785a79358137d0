#!/usr/bin/env bash
# Installs the Debian packages the tests and the PDF need, only when they are missing:
# chromium (driven by Playwright with executable_path=/usr/bin/chromium; never `playwright install`)
# and poppler-utils (pdftoppm). Needs root, as on this project's machines.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
