#!/usr/bin/env bash
# Runs one Hoopstat Factory action: `factory-run.sh <action> [args...]`.
#
# The runtime's third-party packages come from the committed lock requirements/runtime.txt, hash
# checked, wheels only, no resolution (uv, itself installed from requirements/uv.txt with
# pip --require-hashes). They go into one venv per job under $RUNNER_TEMP, keyed by the lock, the
# Python and the platform, so every later factory step of the job reuses it. The suite's own code
# is not installed: it is imported from this very checkout (the directory above actions/), the one
# the runner fetched for the `uses:` ref, so nothing needs a build backend and no venv can carry
# stale or foreign suite code. See docs/adr/0008-supply-chain.md.
#
# Nothing is written to the runner's command files here: that is the Python runner module's job.
set -euo pipefail

suite_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_python="${HOOPSTAT_FACTORY_BASE_PYTHON:-python3}"
# HOOPSTAT_FACTORY_VENV_ROOT lets a self-hosted runner keep the venv across jobs; by default it
# lives and dies with the job's RUNNER_TEMP.
venv_root="${HOOPSTAT_FACTORY_VENV_ROOT:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/hoopstat-factory}"

fail() {
  echo "::error title=$1::$2"
  exit 1
}

# One interpreter start does the version check, the venv root's safety check (it creates the root
# 0700 if missing) and the keys: a venv is only reused by the same lock, Python and platform.
probe_status=0
probe="$("$base_python" -I - "$venv_root" "$suite_root/requirements" <<'PY' 2>&1
import hashlib, os, platform, stat, sys, sysconfig
if sys.version_info < (3, 11):
    sys.exit(3)
root, locks = sys.argv[1], sys.argv[2]
os.makedirs(root, mode=0o700, exist_ok=True)
found = os.stat(root)
if found.st_uid != os.geteuid():
    print(f"it is owned by uid {found.st_uid}, not by this user (uid {os.geteuid()})")
    sys.exit(4)
if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
    print(f"it is writable by group or others ({stat.filemode(found.st_mode)})")
    sys.exit(4)
python = " ".join((sys.implementation.cache_tag, platform.python_version(),
                   sysconfig.get_platform(), os.path.realpath(sys.executable)))
def key(lock):
    with open(os.path.join(locks, lock), "rb") as handle:
        return hashlib.sha256(handle.read() + b"\0" + python.encode()).hexdigest()[:16]
import importlib.util
print(key("runtime.txt"), key("uv.txt"), int(importlib.util.find_spec("pip") is not None))
PY
)" || probe_status=$?
case "$probe_status" in
  0) ;;
  3) fail "Python 3.11+ needed" "Hoopstat Factory needs Python 3.11 or newer as '${base_python}'. Add actions/setup-python with python-version: '3.12' before this step, or set HOOPSTAT_FACTORY_BASE_PYTHON." ;;
  4) fail "Unsafe venv root" "Refusing the venv root ${venv_root}: ${probe}. Another user could plant the Python it runs. Fix: chown \"\$(id -un)\" '${venv_root}' && chmod go-w '${venv_root}', or point HOOPSTAT_FACTORY_VENV_ROOT at a directory only this user can write (or unset it)." ;;
  *) echo "$probe" >&2
     fail "Hoopstat Factory setup failed" "could not run '${base_python}' to prepare the Python environment; see the log above." ;;
esac
read -r venv_key uv_key base_has_pip <<<"$probe"
venv="${venv_root}/venv-${venv_key}"

staging=""
trap 'if [ -n "$staging" ]; then rm -rf "$staging"; fi' EXIT

install_failed() {  # $1: what failed, $2: its log
  cat "$2" >&2
  if grep -qi 'hash' "$2"; then
    fail "Dependency hash mismatch" "$1: a downloaded package does not match the sha256 pinned in ${suite_root}/requirements/. Nothing was run. If the lock was edited by hand, regenerate it with requirements/lock.sh; otherwise the package index served unexpected bytes: do not retry blindly, report it."
  fi
  fail "Hoopstat Factory setup failed" "$1 (log above). Nothing was run."
}

ensure_uv() {  # the hash-pinned uv binary, installed once per root
  uv="${venv_root}/uv-${uv_key}/bin/uv"
  if [ -f "${venv_root}/uv-${uv_key}/.ready" ]; then return 0; fi
  local stage pip_python="$base_python"
  stage="$(mktemp -d "${venv_root}/staging-XXXXXX")"
  staging="$stage"
  if [ "$base_has_pip" != 1 ]; then
    # No pip beside this Python (some distro builds): a throwaway venv brings its bundled pip.
    "$base_python" -m venv "$stage/pip" && pip_python="$stage/pip/bin/python"
  fi
  if ! "$pip_python" -I -m pip install --quiet --disable-pip-version-check --no-input \
      --no-deps --require-hashes --only-binary :all: --no-compile \
      --target "$stage/uv" -r "$suite_root/requirements/uv.txt" >"$stage/pip.log" 2>&1; then
    install_failed "pip could not install the pinned uv from requirements/uv.txt" "$stage/pip.log"
  fi
  touch "$stage/uv/.ready"
  mv -T "$stage/uv" "${venv_root}/uv-${uv_key}" 2>/dev/null || true
  rm -rf "$stage"
  staging=""
}

if [ ! -f "${venv}/.ready" ]; then
  started=$(date +%s.%N)
  ensure_uv
  staging="$(mktemp -d "${venv_root}/staging-XXXXXX")"
  "$base_python" -m venv --without-pip "$staging"
  # --no-config: an app repo's uv.toml or pyproject [tool.uv] must not steer the install. The
  # cache lives in the venv root (same owner checks, same filesystem: uv hard-links from it).
  if ! UV_CACHE_DIR="${venv_root}/uv-cache" UV_LINK_MODE=hardlink "$uv" pip install --quiet --no-config --python "$staging/bin/python" \
      --require-hashes --no-deps --only-binary :all: \
      -r "$suite_root/requirements/runtime.txt" >"$staging/install.log" 2>&1; then
    install_failed "uv could not install requirements/runtime.txt" "$staging/install.log"
  fi
  touch "$staging/.ready"
  # Another job on the same runner may have won the race; either venv is equally good.
  mv -T "$staging" "$venv" 2>/dev/null || rm -rf "$staging"
  staging=""
  echo "Hoopstat Factory: Python environment ready in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s (${venv})"
fi

# `python -m action_scripts`, with the suite imported from this checkout. -P keeps the working
# directory (the app's workspace) off sys.path, so a file there cannot shadow a module.
exec "${venv}/bin/python" -P -c 'import runpy, sys
sys.path.insert(0, sys.argv.pop(1))
runpy.run_module("action_scripts", run_name="__main__", alter_sys=True)' "$suite_root" "$@"
