#!/usr/bin/env bash
# SPEC's contract check (../shared/contract-check.py) against a NON-editable
# install of intake, on a scratch copy of the examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
checker="$root/../shared/contract-check.py"
if [ ! -f "$checker" ]; then
  echo "contract-check: $checker not found (the shared/ folder sits beside the repository)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q "$root" 2>&1 | grep -v "^WARNING: Location" || true
mkdir -p "$scratch/work/examples"
cp -r "$root/examples/maildir" "$scratch/work/examples/maildir"
cp "$root/config.example.toml" "$scratch/work/config.example.toml"
cd "$scratch/work"
python3 "$checker" --config config.example.toml --intake "$scratch/venv/bin/intake" --run
