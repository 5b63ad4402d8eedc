#!/usr/bin/env bash
# Installs what building and testing crmsync needs on a fresh Linux machine: the offline crate
# source (when ../shared is beside the project), PowerShell 7.6.9 as a .NET tool. Pester is
# installed by build.ps1 itself. Idempotent.
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
echo "bootstrap: $(pwsh -NoProfile -Command '"PowerShell " + $PSVersionTable.PSVersion'), $(cargo --version)"
