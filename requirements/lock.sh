#!/usr/bin/env bash
# Regenerates the hash-pinned locks in requirements/ from their .in files:
#   requirements/lock.sh                          keep current pins where still allowed
#   requirements/lock.sh --upgrade                move everything to the newest allowed
#   requirements/lock.sh --upgrade-package boto3  move one package (and what it needs)
# Extra arguments go to every `uv pip compile`. uv itself comes from uv.txt, hash-checked.
# Locks are universal (every platform's and Python's wheel hashes, with markers), so a lock made
# here installs on any runner. Needs only the package index.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary :all: --target "$tool" -r requirements/uv.txt
uv="$tool/bin/uv"

compile() {
  local name="$1" python_version="$2"
  shift 2
  "$uv" pip compile "requirements/${name}.in" --quiet --no-config --universal --generate-hashes \
    --python-version "$python_version" --custom-compile-command "requirements/lock.sh" \
    -o "requirements/${name}.txt" "$@"
}

compile runtime 3.11 "$@"
compile uv 3.11 "$@"
# The editable local distributions are installed by ./dev without hashes (their code is here).
compile dev 3.11 --no-emit-package hoopstat-factory --no-emit-package hoopstat-factory-cli \
  --no-emit-package hoopstat-factory-bench --no-emit-package hoopstat-runtime \
  --no-emit-package hoopstat-secret-rotation "$@"
# soupsieve, which checkov needs, requires Python >= 3.11.5.
compile checkov 3.11.5 "$@"
