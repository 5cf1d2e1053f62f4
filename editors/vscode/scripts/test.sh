#!/usr/bin/env bash
# The VS Code extension's whole test run, for CI and by hand:
#   setup (idempotent) → type-check, lint, unit tests → .vsix → Chromium panel tests, benchmark and
#   code-server end-to-end tests (pytest, tests/editors/vscode).
# Usage: editors/vscode/scripts/test.sh [pytest args...]
set -euo pipefail

EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$EXT/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY="$(command -v python3)"

step() { printf '\n== %s\n' "$*"; }

step "setup (scripts/setup-vscode.sh)"
bash "$ROOT/scripts/setup-vscode.sh"

cd "$EXT"
step "type-check (tsc strict: src, test; checkJs: media)"
npm run -s typecheck
step "lint (eslint)"
npm run -s lint
step "unit tests (node --test)"
npm run -s test:unit
step "package (.vsix)"
rm -f ./*.vsix
npm run -s package

cd "$ROOT"
mkdir -p artifacts
step "panel in Chromium, benchmark, code-server end to end (pytest)"
"$PY" -m pytest tests/editors/vscode -p no:cacheprovider -q -rs "$@"
