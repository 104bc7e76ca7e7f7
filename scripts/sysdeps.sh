#!/usr/bin/env bash
# Install the Debian packages the test suite uses as external judges and
# servers. Only acts when running as root on Debian; elsewhere prints a note.
set -euo pipefail

# Arguments name other packages instead (``make bench`` asks for wrk).
# chromium: the pages' e2e tests (tests/e2e), driven by Playwright through its executable path.
# nginx and gettext-base (envsubst): the deploy/ files run by tests/integration/test_workers_nginx.py (issue 17).
PACKAGES=(openssl poppler-utils qpdf zbar-tools softhsm2 libnss3-tools postgresql chromium nginx gettext-base)
if [ "$#" -gt 0 ]; then
    PACKAGES=("$@")
fi

if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    echo "sysdeps: not root on Debian, skipping; make sure these are installed: ${PACKAGES[*]}"
    exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed$'; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "sysdeps: all present (${PACKAGES[*]})"
    exit 0
fi

echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own PostgreSQL and nginx on loopback: the packages' own services are not
# started by the installation (policy-rc.d, as Debian's container images do), so a busy port 80 or
# 5432 cannot fail it. Left as it was if the machine has a policy of its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
