#!/usr/bin/env bash
# `make lock`: resolve pyproject.toml's dependencies anew, at their newest
# releases that satisfy it, into the two lock files `make install` and
# `make test` install from (with hashes, for every platform):
#   requirements.lock      the service: [project] dependencies + build tools
#   requirements-dev.lock  the same pins + the [dev] extra (test tools)
# Then records pyproject.toml's requirements' digest in both headers, which
# scripts/lockcheck.py (run by `make test`) compares.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${1:-.venv/bin/python}
UV_VERSION=0.13.9
if ! "$PY" -m uv --version 2>/dev/null | grep -q "uv $UV_VERSION"; then
    "$PY" -m pip install --quiet "uv==$UV_VERSION"
fi
uv=("$PY" -m uv pip compile --quiet --python-version 3.11 --universal --generate-hashes
    --no-header --no-annotate --index-url https://pypi.org/simple)

build_tools=$(mktemp)
trap 'rm -f "$build_tools"' EXIT
# setuptools builds our one C extension (`pip install --no-build-isolation -e .`).
printf 'setuptools>=68\nwheel\n' > "$build_tools"

"${uv[@]}" pyproject.toml "$build_tools" --extra dev -o requirements-dev.lock.new
# The runtime lock takes its pins from the dev lock: the service runs on exactly what it is tested on.
"${uv[@]}" pyproject.toml "$build_tools" -c requirements-dev.lock.new -o requirements.lock.new
"$PY" scripts/lockcheck.py --stamp requirements.lock.new requirements-dev.lock.new
mv requirements-dev.lock.new requirements-dev.lock
mv requirements.lock.new requirements.lock
"$PY" scripts/lockcheck.py
echo "lock: requirements.lock and requirements-dev.lock rewritten; review 'git diff', then make test"
