#!/usr/bin/env bash
# The Python SDK (sdks/python): installs it with its test extras into a venv
# (created on first use, reused after) and runs pytest, as its README says.
# The end-to-end test runs when TESSERA_BIN is set and is skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/../../sdks/python"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
pip install -q -e '.[test]'
pytest
