# CI: makes the stable Rust toolchain (rustup) available to the following steps of a GitHub Actions job.
# Hosted images mostly ship rustup; windows-11-arm and the arm64 Ubuntu image may not.
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$cargoBin = Join-Path $HOME '.cargo/bin'
if (-not (Get-Command rustup -ErrorAction SilentlyContinue) -and -not (Test-Path -LiteralPath (Join-Path $cargoBin 'rustup*'))) {
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
        $triple = 'x86_64-pc-windows-msvc'
        if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { $triple = 'aarch64-pc-windows-msvc' }
        $installer = Join-Path ([System.IO.Path]::GetTempPath()) 'rustup-init.exe'
        Invoke-WebRequest -Uri "https://static.rust-lang.org/rustup/dist/$triple/rustup-init.exe" -OutFile $installer -UseBasicParsing
        & $installer -y --profile minimal --default-toolchain stable
    }
    else {
        & bash -c 'curl --proto =https --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable'
    }
    if ($LASTEXITCODE -ne 0) { throw "rustup-init failed with exit code $LASTEXITCODE" }
}
if ($env:GITHUB_PATH) { Add-Content -LiteralPath $env:GITHUB_PATH -Value $cargoBin }
$env:PATH = $cargoBin + [System.IO.Path]::PathSeparator + $env:PATH
& rustup toolchain install stable --profile minimal --component clippy
if ($LASTEXITCODE -ne 0) { throw "rustup toolchain install failed with exit code $LASTEXITCODE" }
& rustup default stable
& cargo --version
