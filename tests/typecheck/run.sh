#!/usr/bin/env bash
# The UI's type check: TypeScript's compiler reads ui/*.js (// @ts-check, JSDoc types) and emits nothing.
# Kept here, not in ui/, because everything in ui/ is embedded in the app. TypeScript is pinned in
# package-lock.json; `npm ci` installs it on first use.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
npx --no-install tsc -p .
echo "UI type check: clean"
