#!/usr/bin/env bash
# Creates .venv and installs Prefstack with its training and test extras.
# torch goes in first, pinned: asked for indirectly, pip would fetch the newest build with
# gigabytes of CUDA packages. Re-running is cheap: nothing is reinstalled unless
# pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "==> installing torch 2.13.0 first"
  .venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
fi
stamp=.venv/.prefstack-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing Prefstack and its dependencies"
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[train,test]"
  echo "$wanted" >"$stamp"
fi
