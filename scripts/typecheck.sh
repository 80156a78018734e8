#!/usr/bin/env bash
# mypy on the code as it is installed (`intake.parsers`, `intake.store`,
# `intake.processor`): a tree of links maps the top-level folders under the
# `intake` namespace, as setuptools' package-dir does. Strict on parsers and
# store (pyproject's [tool.mypy] overrides).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree="$root/build/typecheck"
mkdir -p "$tree/intake"
for d in parsers store processor templates; do ln -sfn "../../../$d" "$tree/intake/$d"; done
cd "$tree"
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" --namespace-packages --explicit-package-bases \
  -p intake.parsers -p intake.store -p intake.processor
