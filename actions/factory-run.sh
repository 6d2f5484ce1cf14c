#!/usr/bin/env bash
# Runs one Hoopstat Factory action: `factory-run.sh <action> [args...]`.
#
# The Python package is installed from this very checkout of the suite (the directory above
# actions/) into one venv per job under $RUNNER_TEMP, keyed by the suite's content, so every
# later factory step of the job reuses it. Nothing is written to the runner's command files here:
# that is the Python runner module's job.
set -euo pipefail

suite_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_python="${HOOPSTAT_FACTORY_BASE_PYTHON:-python3}"

if ! "$base_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "::error title=Python 3.11+ needed::Hoopstat Factory needs Python 3.11 or newer as '${base_python}'. Add actions/setup-python with python-version: '3.12' before this step, or set HOOPSTAT_FACTORY_BASE_PYTHON."
  exit 1
fi

key="$(cd "$suite_root" && find pyproject.toml action_scripts -type f -name '*.py' -o -type f -name '*.toml' -o -type f -name '*.j2' -o -type f -name '*.json' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
# HOOPSTAT_FACTORY_VENV_ROOT lets a self-hosted runner keep the venv across jobs (the key still
# changes with the suite's content); by default it lives and dies with the job's RUNNER_TEMP.
venv_root="${HOOPSTAT_FACTORY_VENV_ROOT:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/hoopstat-factory}"
venv="${venv_root}/venv-${key}"

if [ ! -f "${venv}/.ready" ]; then
  started=$(date +%s.%N)
  mkdir -p "$venv_root"
  staging="$(mktemp -d "${venv_root}/staging-XXXXXX")"
  "$base_python" -m venv "$staging"
  if ! "$staging/bin/python" -m pip install --quiet --disable-pip-version-check "$suite_root" >"$staging/pip.log" 2>&1; then
    cat "$staging/pip.log" >&2
    echo "::error title=Hoopstat Factory setup failed::pip could not install the action's Python package from ${suite_root}; see the log above."
    exit 1
  fi
  touch "$staging/.ready"
  # Another job on the same runner may have won the race; either venv is equally good.
  mv -T "$staging" "$venv" 2>/dev/null || rm -rf "$staging"
  echo "Hoopstat Factory: Python environment ready in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s (${venv})"
fi

exec "${venv}/bin/python" -m action_scripts "$@"
