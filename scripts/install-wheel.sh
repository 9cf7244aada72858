#!/bin/sh
# Install the ecm-bot wheel into a fresh virtual environment, pinned by constraints.txt.
# Usage: scripts/install-wheel.sh VENV WHEEL [CONSTRAINTS]
# The Dockerfile runs this, and so does tests/test_package.py, so the tested path is the shipped
# path. CONSTRAINTS defaults to constraints.txt next to this script's folder.
set -eu

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: $0 VENV WHEEL [CONSTRAINTS]" >&2
    exit 2
fi
venv=$1
wheel=$2
constraints=${3:-$(cd "$(dirname "$0")/.." && pwd)/constraints.txt}
python=${PYTHON:-python3}

[ -f "$wheel" ] || { echo "no such wheel: $wheel" >&2; exit 2; }
[ -f "$constraints" ] || { echo "no such constraints file: $constraints" >&2; exit 2; }

# The venv gets no pip of its own (nothing in it installs at run time): this Python's pip
# installs into it (pip >= 22.3, --python).
"$python" -m venv --without-pip "$venv"
"$python" -m pip --python "$venv/bin/python" install --quiet --disable-pip-version-check \
    -c "$constraints" "$wheel"
# Fail here, not at first start, if the installed copy lacks its skills or shared resources.
"$venv/bin/ecm-bot" --help >/dev/null
"$venv/bin/python" -c "from bot.paths import SKILLS_DIR, GUARDRAILS_FILE; \
assert SKILLS_DIR.is_dir() and GUARDRAILS_FILE.is_file(), SKILLS_DIR"
echo "installed $(basename "$wheel") into $venv"
