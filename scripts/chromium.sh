#!/usr/bin/env bash
# Installs Debian's Chromium for the map page's browser test (tests/e2e/test_e2e_map_page.py),
# unless a Chromium is already there. `make test` runs this first, as scripts/postgres.py is
# how the tests get PostgreSQL. Playwright drives this browser; it never downloads its own.
#
#   scripts/chromium.sh        # prints the browser's path
#
# OPENEE_CHROMIUM names another Chromium binary to use instead.
set -euo pipefail

for candidate in "${OPENEE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "scripts/chromium.sh: no Chromium found; install Debian's 'chromium' package" \
    "(as root: apt-get install chromium) or set OPENEE_CHROMIUM." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2
echo /usr/bin/chromium
