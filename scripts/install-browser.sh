#!/usr/bin/env sh
# Install Debian's chromium for the browser tests (Playwright drives it; it downloads no browser).
# Does nothing when chromium is already there; needs root (as in CI) or sudo.
set -e
for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$c" ] && exit 0
done
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "note: chromium is not installed and this user cannot install it; browser tests will be skipped" >&2
    exit 0
fi
echo "installing Debian's chromium for the browser tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
