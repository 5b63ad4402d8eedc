<#
.SYNOPSIS
Builds, tests, demonstrates and packages crmsync (native library + PowerShell module).

.DESCRIPTION
Build   : cargo build --workspace (library and simulator), dotnet build of the interop assembly, and
          the module layout: powershell/CrmServerSideSync/lib/CrmSync.Interop.dll and
          powershell/CrmServerSideSync/runtimes/<rid>/native/<native library>.
Test    : Build, cargo test --workspace, then the Pester 5 tests under powershell/tests (in a child
          PowerShell process); prints "N passed, N failed" and exits 1 on any failure.
Demo    : Build, then tools/demo.ps1: start the simulator and run the whole procedure through the
          module (connect with client credentials, readiness, the setup plan (-WhatIf), the setup
          with Test & Enable (-Wait), the same setup again, the newest error alerts), then day two:
          the health report, a few injected failures, Repair-CrmMailbox -Wait, the report again.
Package : Build, then out/CrmServerSideSync/ (the module folder: what ships, checked with
          Test-ModuleManifest), out/CrmServerSideSync.<version>.nupkg (Compress-PSResource, else
          Publish-PSResource to a local folder repository) and out/CrmServerSideSync.zip (the module
          folder at the zip root, for Azure Automation). -NativeDirectory adds native libraries built
          elsewhere (<dir>/runtimes/<rid>/native/<file>); -RequireRuntime fails unless every listed RID
          is in the package. Test also packages, and the Pester suite tests the package.
Bench   : the benchmark (examples/bench.rs): the whole procedure against the simulator with scaled
          real limits, crmsync beside a one-request-per-record baseline; the health report's
          requests and wall time on 10,000 and 50,000 mailboxes (examples/bench_health.rs); then the
          whole procedure on 50,000 mailboxes (-Mailboxes) with limits off, three times through the
          Rust API (examples/bench_procedure.rs) and through Invoke-CrmExchangeOnlineSetup -Wait in
          turn, each on a fresh simulator: the wall times, the ratio of their medians and the
          PowerShell process's highest peak memory.
Soak    : the fault run (tests/soak.rs) on 10,000 mailboxes (-Mailboxes to change).

Runs on Windows PowerShell 5.1 and PowerShell 7 (Windows, Linux, macOS).

.EXAMPLE
./build.ps1 -Task Test

.EXAMPLE
./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Package', 'Bench', 'Soak')]
    [string] $Task = 'Build',

    # Bench: mailboxes of the procedure run through the Rust API and through PowerShell (0 skips it); Soak: mailboxes of the fault run.
    [int] $Mailboxes = -1,

    # Bench: arguments passed to the Rust benchmark (examples/bench.rs), e.g. '--sizes','10000'.
    [string[]] $BenchArguments = @(),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    # Package: a folder with runtimes/<rid>/native/<library> built on other platforms (the release pipeline).
    [string] $NativeDirectory = '',

    # Package: RIDs that must each have their native library in the package (win-x64, osx-arm64, ...).
    [string[]] $RequireRuntime = @()
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Root = $PSScriptRoot
$ModuleName = 'CrmServerSideSync'
$ModuleDir = Join-Path $Root "powershell/$ModuleName"
$InteropProject = Join-Path $Root 'interop/CrmSync.Interop/CrmSync.Interop.csproj'
$ToolsDir = Join-Path $Root '.tools'
$CargoProfileDir = Join-Path $Root ('target/' + $Configuration.ToLowerInvariant())
$PesterVersion = '5.7.1'

class BuildStepException : System.Exception {
    [int] $ExitCode
    BuildStepException([string] $message, [int] $exitCode) : base($message) { $this.ExitCode = $exitCode }
}

function Write-Step([string] $Text) {
    Write-Host ''
    Write-Host ('==> ' + $Text) -ForegroundColor Cyan
}

function Test-IsWindowsHost {
    [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
}

function Test-IsMacHost {
    if (Test-IsWindowsHost) { return $false }
    [System.Runtime.InteropServices.RuntimeInformation]::IsOSPlatform([System.Runtime.InteropServices.OSPlatform]::OSX)
}

function Get-RuntimeId {
    # Must match CrmSync.Interop.Native.CurrentRid (the process architecture of the PowerShell host).
    if (Test-IsWindowsHost) {
        switch (([string]$env:PROCESSOR_ARCHITECTURE).ToUpperInvariant()) {
            'ARM64' { return 'win-arm64' }
            'X86' { return 'win-x86' }
            default { return 'win-x64' }
        }
    }
    $os = 'linux'
    if (Test-IsMacHost) { $os = 'osx' }
    $arch = ([string][System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture).ToLowerInvariant()
    return "$os-$arch"
}

function Get-NativeFileName([string] $Rid = (Get-RuntimeId)) {
    # Must match CrmSync.Interop.RuntimeIdentifier.NativeFileName.
    if ($Rid.StartsWith('win-')) { return 'crmsync.dll' }
    if ($Rid.StartsWith('osx-')) { return 'libcrmsync.dylib' }
    return 'libcrmsync.so'
}

function Get-PowerShellExe {
    # The executable of the running PowerShell edition (the process itself may be a dotnet host).
    if ($PSVersionTable.PSEdition -eq 'Desktop') { return (Join-Path $PSHOME 'powershell.exe') }
    foreach ($name in @('pwsh', 'pwsh.exe')) {
        $candidate = Join-Path $PSHOME $name
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    $onPath = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -ne $onPath) { return $onPath.Source }
    throw 'Cannot find the pwsh executable for a child process.'
}

function Invoke-Native {
    # Runs a native command with its output on the console (-PassThru: also returns its lines);
    # throws with the exit code on failure.
    param([Parameter(Mandatory)] [string] $Name, [string[]] $Arguments = @(), [string] $Description = $Name, [switch] $PassThru)
    Write-Host ("$Name " + ($Arguments -join ' ')) -ForegroundColor DarkGray
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        # Stderr is merged and written as text: Windows PowerShell 5.1 would otherwise turn tool
        # progress on stderr into errors.
        & $Name @Arguments 2>&1 | ForEach-Object { Write-Host ([string]$_); if ($PassThru) { [string]$_ } }
        $code = $LASTEXITCODE
    }
    finally {
        $ErrorActionPreference = $previous
    }
    if ($code -ne 0) { throw [BuildStepException]::new("$Description failed with exit code $code.", $code) }
}

function Invoke-Build {
    Write-Step "cargo build ($Configuration)"
    if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) { throw [BuildStepException]::new('cargo was not found on PATH: install Rust (https://rustup.rs).', 127) }
    $cargoArgs = @('build', '--workspace')
    if ($Configuration -eq 'Release') { $cargoArgs += '--release' }
    Invoke-Native -Name 'cargo' -Arguments $cargoArgs -Description 'cargo build'

    Write-Step "dotnet build interop ($Configuration)"
    if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) { throw [BuildStepException]::new('dotnet was not found on PATH: install the .NET SDK (6 or later).', 127) }
    Invoke-Native -Name 'dotnet' -Arguments @('build', $InteropProject, '-c', $Configuration, '--nologo', '-v', 'minimal') -Description 'dotnet build'

    Write-Step 'module layout'
    $interopDll = Join-Path $Root "interop/CrmSync.Interop/bin/$Configuration/netstandard2.0/CrmSync.Interop.dll"
    $nativeFile = Get-NativeFileName
    $nativeSource = Join-Path $CargoProfileDir $nativeFile
    foreach ($file in @($interopDll, $nativeSource)) {
        if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { throw [BuildStepException]::new("Expected build output '$file' is missing.", 1) }
    }
    $rid = Get-RuntimeId
    $libDir = Join-Path $ModuleDir 'lib'
    $nativeDir = Join-Path $ModuleDir "runtimes/$rid/native"
    foreach ($dir in @($libDir, $nativeDir)) {
        if (-not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
    }
    Copy-Item -LiteralPath $interopDll -Destination (Join-Path $libDir 'CrmSync.Interop.dll') -Force
    Copy-Item -LiteralPath $nativeSource -Destination (Join-Path $nativeDir $nativeFile) -Force
    Write-Host "lib/CrmSync.Interop.dll and runtimes/$rid/native/$nativeFile laid out in $ModuleDir"
}

function Initialize-Pester {
    # Makes Pester >= 5 importable (tools/Install-Pester.ps1; it updates PSModulePath of this process).
    try {
        & (Join-Path $Root 'tools/Install-Pester.ps1') -ToolsDir $ToolsDir -Version $PesterVersion
    }
    catch {
        throw [BuildStepException]::new($_.Exception.Message, 1)
    }
}

function Invoke-CargoTests {
    # Returns @{ Passed; Failed; ExitCode }.
    Write-Step "cargo test ($Configuration)"
    # --no-fail-fast: every test binary runs, so the totals cover the whole workspace.
    $cargoArgs = @('test', '--workspace', '--no-fail-fast')
    if ($Configuration -eq 'Release') { $cargoArgs += '--release' }
    Write-Host ("cargo " + ($cargoArgs -join ' ')) -ForegroundColor DarkGray
    $passed = 0
    $failed = 0
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        & cargo @cargoArgs 2>&1 | ForEach-Object {
            $line = [string]$_
            Write-Host $line
            $m = [regex]::Match($line, 'test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed')
            if ($m.Success) {
                $passed += [int]$m.Groups[1].Value
                $failed += [int]$m.Groups[2].Value
            }
        }
        $code = $LASTEXITCODE
    }
    finally {
        $ErrorActionPreference = $previous
    }
    Write-Host "cargo test: $passed passed, $failed failed (exit code $code)"
    @{ Passed = $passed; Failed = $failed; ExitCode = $code }
}

function Invoke-PesterTests {
    # Runs Pester in a child PowerShell (the module loads native code into its process). Returns @{ Passed; Failed; ExitCode }.
    Write-Step 'Pester tests'
    Initialize-Pester
    $resultFile = Join-Path $ToolsDir 'pester-result.json'
    if (Test-Path -LiteralPath $resultFile) { Remove-Item -LiteralPath $resultFile -Force }
    $testsPath = Join-Path $Root 'powershell/tests'
    $runner = @"
`$ErrorActionPreference = 'Stop'
Import-Module Pester -MinimumVersion 5.0
`$config = New-PesterConfiguration
`$config.Run.Path = '$($testsPath -replace "'", "''")'
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Detailed'
`$result = Invoke-Pester -Configuration `$config
`$summary = @{ passed = `$result.PassedCount; failed = `$result.FailedCount + `$result.FailedBlocksCount + `$result.FailedContainersCount; skipped = `$result.SkippedCount }
[System.IO.File]::WriteAllText('$($resultFile -replace "'", "''")', (ConvertTo-Json `$summary -Compress))
"@
    # A script file (-File), not -EncodedCommand: PowerShell echoes an encoded child's host output twice.
    $runnerFile = Join-Path $ToolsDir 'run-pester.ps1'
    [System.IO.File]::WriteAllText($runnerFile, $runner, (New-Object System.Text.UTF8Encoding($true)))
    $exe = Get-PowerShellExe
    $env:CRMSYNC_BUILD_CONFIGURATION = $Configuration
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        & $exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $runnerFile 2>&1 | ForEach-Object { Write-Host ([string]$_) }
        $code = $LASTEXITCODE
    }
    finally {
        $ErrorActionPreference = $previous
    }
    if (-not (Test-Path -LiteralPath $resultFile)) {
        Write-Host "Pester did not report results (exit code $code)." -ForegroundColor Red
        return @{ Passed = 0; Failed = 1; ExitCode = $(if ($code -ne 0) { $code } else { 1 }) }
    }
    $summary = Get-Content -LiteralPath $resultFile -Raw | ConvertFrom-Json
    Write-Host "Pester: $($summary.passed) passed, $($summary.failed) failed, $($summary.skipped) skipped"
    @{ Passed = [int]$summary.passed; Failed = [int]$summary.failed; ExitCode = 0 }
}

function Invoke-Test {
    Invoke-Build
    New-ModulePackage
    New-Item -ItemType Directory -Path $ToolsDir -Force | Out-Null
    $cargo = Invoke-CargoTests
    $pester = Invoke-PesterTests
    $passed = $cargo.Passed + $pester.Passed
    $failed = $cargo.Failed + $pester.Failed
    Write-Host ''
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $cargo.ExitCode -ne 0 -or $pester.ExitCode -ne 0) {
        if ($cargo.ExitCode -ne 0) { Write-Host "cargo test exited with code $($cargo.ExitCode)." -ForegroundColor Red }
        $script:ExitCode = 1
    }
}

function Invoke-Demo {
    Invoke-Build
    # The demo is a script of its own (tools/demo.ps1), readable without the build machinery.
    & (Join-Path $Root 'tools/demo.ps1') -Configuration $Configuration
}

function Copy-PrebuiltNative([string] $Source, [string] $ModuleOut) {
    # Native libraries built on other platforms: <Source>/runtimes/<rid>/native/<library>.
    $runtimes = Join-Path $Source 'runtimes'
    if (-not (Test-Path -LiteralPath $runtimes -PathType Container)) { throw [BuildStepException]::new("-NativeDirectory '$Source' has no runtimes folder (expected runtimes/<rid>/native/<library>).", 1) }
    foreach ($ridDir in @(Get-ChildItem -LiteralPath $runtimes -Directory)) {
        $file = Join-Path $ridDir.FullName ('native/' + (Get-NativeFileName -Rid $ridDir.Name))
        if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { throw [BuildStepException]::new("-NativeDirectory: '$file' is missing.", 1) }
        $destination = Join-Path $ModuleOut "runtimes/$($ridDir.Name)/native"
        New-Item -ItemType Directory -Path $destination -Force | Out-Null
        Copy-Item -LiteralPath $file -Destination $destination -Force
        Write-Host "runtimes/$($ridDir.Name)/native/$(Split-Path -Leaf $file) from $Source"
    }
}

function New-NupkgFile([string] $ModuleOut, [string] $Destination) {
    # Compress-PSResource (PSResourceGet 1.1+) packs without a repository; older PSResourceGet publishes
    # to a throwaway local folder repository, which writes the same .nupkg.
    if (Get-Command Compress-PSResource -ErrorAction SilentlyContinue) {
        Compress-PSResource -Path $ModuleOut -DestinationPath $Destination
        return
    }
    if (-not (Get-Command Publish-PSResource -ErrorAction SilentlyContinue)) { throw [BuildStepException]::new('Packaging needs Microsoft.PowerShell.PSResourceGet (Install-Module Microsoft.PowerShell.PSResourceGet).', 1) }
    $name = 'crmsync-pack-' + [guid]::NewGuid().ToString('N')
    Register-PSResourceRepository -Name $name -Uri $Destination -Trusted
    try { Publish-PSResource -Path $ModuleOut -Repository $name }
    finally { Unregister-PSResourceRepository -Name $name }
}

function New-ModulePackage {
    # The module folder, the .nupkg and the Azure Automation .zip under out/, from the built module layout.
    Write-Step 'Package'
    $outRoot = Join-Path $Root 'out'
    $out = Join-Path $outRoot $ModuleName
    if (Test-Path -LiteralPath $outRoot) { Remove-Item -LiteralPath $outRoot -Recurse -Force }
    New-Item -ItemType Directory -Path $out -Force | Out-Null
    foreach ($item in @("$ModuleName.psd1", "$ModuleName.psm1", "$ModuleName.Format.ps1xml")) {
        Copy-Item -LiteralPath (Join-Path $ModuleDir $item) -Destination $out
    }
    foreach ($folder in @('Private', 'Public', 'lib', 'runtimes')) {
        Copy-Item -LiteralPath (Join-Path $ModuleDir $folder) -Destination $out -Recurse
    }
    if (-not [string]::IsNullOrEmpty($NativeDirectory)) { Copy-PrebuiltNative -Source ([System.IO.Path]::GetFullPath($NativeDirectory)) -ModuleOut $out }
    foreach ($rid in $RequireRuntime) {
        $file = Join-Path $out "runtimes/$rid/native/$(Get-NativeFileName -Rid $rid)"
        if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { throw [BuildStepException]::new("-RequireRuntime: the package has no native library for $rid ('$file').", 1) }
    }
    $manifest = Test-ModuleManifest -Path (Join-Path $out "$ModuleName.psd1")
    Write-Host "Module folder $($manifest.Name) $($manifest.Version): $out"
    Get-ChildItem -LiteralPath $out -Recurse -File | ForEach-Object { Write-Host ('  ' + $_.FullName.Substring($out.Length + 1)) }

    New-NupkgFile -ModuleOut $out -Destination $outRoot
    $nupkg = Join-Path $outRoot "$ModuleName.$($manifest.Version).nupkg"
    if (-not (Test-Path -LiteralPath $nupkg -PathType Leaf)) { throw [BuildStepException]::new("The .nupkg '$nupkg' was not written.", 1) }
    Write-Host "NuGet package: $nupkg"

    # Azure Automation imports a .zip whose root holds the module folder named after the module.
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = Join-Path $outRoot "$ModuleName.zip"
    [System.IO.Compression.ZipFile]::CreateFromDirectory($out, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $true)
    Write-Host "Azure Automation module: $zip"
}

function Invoke-Package {
    Invoke-Build
    New-ModulePackage
}

function Invoke-Bench {
    Invoke-Build
    Write-Step 'Benchmark: crmsync and the baseline against the simulator'
    $benchArgs = @('run', '--release', '--example', 'bench', '--') + $BenchArguments
    Invoke-Native -Name 'cargo' -Arguments $benchArgs -Description 'The benchmark'
    Write-Step 'Benchmark: the health report (Get-CrmMailboxHealth) on 10,000 and 50,000 mailboxes'
    Invoke-Native -Name 'cargo' -Arguments @('run', '--release', '--example', 'bench_health') -Description 'The health benchmark'
    $size = $(if ($Mailboxes -ge 0) { $Mailboxes } else { 50000 })
    if ($size -gt 0) {
        # The same procedure, limits off, each on a fresh simulator started the same way: what the
        # PowerShell layer costs on top of the library.
        Write-Step "The whole procedure on $size mailboxes, limits off: through the Rust API, then through Invoke-CrmExchangeOnlineSetup -Wait"
        # Three pairs, one after the other: on a small machine one run of either varies by a fifth
        # (the test polls' timing, the simulator's thread), so the ratio is that of the medians and
        # the peak the highest of the three.
        $rustRuns = @(); $psRuns = @(); $peaks = @()
        foreach ($pair in 1..3) {
            $rust = Invoke-Native -Name 'cargo' -Arguments @('run', '--release', '--example', 'bench_procedure', '--', '--mailboxes', [string]$size) -Description 'The Rust API run' -PassThru
            $ps = Invoke-Native -Name (Get-PowerShellExe) -Arguments @('-NoProfile', '-File', (Join-Path $Root 'tools/bench-powershell.ps1'), '-Mailboxes', [string]$size) -Description 'The PowerShell run' -PassThru
            $rustRuns += Get-BenchNumber -Lines $rust -Name 'rust_seconds'
            $psRuns += Get-BenchNumber -Lines $ps -Name 'ps_seconds'
            $peaks += Get-BenchNumber -Lines $ps -Name 'peak_mb'
            Write-Host ('pair {0}: Rust API {1:N1} s, PowerShell {2:N1} s, PowerShell/Rust {3:N2}, PowerShell peak {4:N0} MB' -f $pair, $rustRuns[-1], $psRuns[-1], ($psRuns[-1] / $rustRuns[-1]), $peaks[-1])
        }
        $rustSeconds = ($rustRuns | Sort-Object)[1]
        $psSeconds = ($psRuns | Sort-Object)[1]
        $peak = ($peaks | Measure-Object -Maximum).Maximum
        Write-Host ('{0} mailboxes, limits off, medians of three: Rust API {1:N1} s, PowerShell {2:N1} s, PowerShell/Rust {3:N2} (target at most 1.25), PowerShell peak working set at most {4:N0} MB (target under 300)' -f `
                $size, $rustSeconds, $psSeconds, ($psSeconds / $rustSeconds), $peak)
    }
}

function Get-BenchNumber {
    # The number of the last "name=<number>" in a benchmark's output lines.
    param([string[]] $Lines, [Parameter(Mandatory)] [string] $Name)
    $found = @($Lines | Select-String -Pattern ([regex]::Escape($Name) + '=([0-9.]+)') -AllMatches | ForEach-Object { $_.Matches } | ForEach-Object { $_.Groups[1].Value })
    if ($found.Count -eq 0) { throw [BuildStepException]::new("The benchmark printed no $Name.", 1) }
    [double]::Parse($found[-1], [System.Globalization.CultureInfo]::InvariantCulture)
}

function Invoke-Soak {
    Write-Step 'Soak: the procedure under injected faults'
    $env:CRMSYNC_SOAK_MAILBOXES = [string]$(if ($Mailboxes -gt 0) { $Mailboxes } else { 10000 })
    Invoke-Native -Name 'cargo' -Arguments @('test', '--release', '--test', 'soak', '--', '--nocapture') -Description 'The soak run'
}

$script:ExitCode = 0
try {
    switch ($Task) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Demo' { Invoke-Demo }
        'Package' { Invoke-Package }
        'Bench' { Invoke-Bench }
        'Soak' { Invoke-Soak }
    }
}
catch {
    $code = 1
    if ($_.Exception -is [BuildStepException]) { $code = $_.Exception.ExitCode }
    Write-Host ''
    Write-Host "build.ps1 -Task $Task failed: $($_.Exception.Message)" -ForegroundColor Red
    if ($_.InvocationInfo) { Write-Host $_.InvocationInfo.PositionMessage -ForegroundColor DarkGray }
    if ($Task -eq 'Test') { Write-Host '0 passed, 1 failed' }
    exit $code
}
exit $script:ExitCode
