#!/usr/bin/env bash
# Make sure the install can compile keys.gost._native (Streebog in C):
# a C compiler and the headers of the Python that builds the venv.
# Called by `make install` before pip. Installs the Debian packages only when
# running as root on Debian; elsewhere it prints what is missing. Without
# them the install still succeeds (the extension is optional) and
# keys.gost falls back to the pure-Python Streebog, about 100x slower.
set -euo pipefail

PYTHON=${1:-python3}
have_cc() { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; }
have_headers() {
    "$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
}

if have_cc && have_headers; then
    exit 0
fi

# The -dev package of the interpreter's own version (python3.11-dev for 3.11).
version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
packages=(gcc libc6-dev "python${version}-dev")

if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    echo "builddeps: no C compiler or Python headers for $PYTHON; install ${packages[*]} (or your system's" \
         "equivalents) to build the native Streebog, or keys.gost will use the slow pure-Python one" >&2
    exit 0
fi

echo "builddeps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
