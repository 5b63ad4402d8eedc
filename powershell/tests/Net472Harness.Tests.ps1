# CrmSync.Interop.dll (netstandard2.0) consumed from .NET Framework 4.7.2, the runtime of Windows
# PowerShell 5.1: tests/net472-harness connects, lists mailboxes page by page, approves them in bulk
# and gets a clear error for bad input, against the simulator. It runs natively on Windows and under
# Mono elsewhere (Debian's mono-complete; tools/bootstrap.sh installs it).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $project = Join-Path $RepoRoot 'tests/net472-harness/Net472Harness.csproj'
    $build = & dotnet build $project -c $BuildConfiguration --nologo -v minimal 2>&1 | ForEach-Object { [string]$_ }
    $script:BuildExitCode = $LASTEXITCODE
    $script:BuildOutput = $build -join [Environment]::NewLine
    $exe = Join-Path $RepoRoot "tests/net472-harness/bin/$BuildConfiguration/net472/Net472Harness.exe"

    $moduleDir = Split-Path $ModuleManifest
    if (-not ('CrmSync.Interop.Native' -as [type])) { Add-Type -Path (Join-Path $moduleDir 'lib/CrmSync.Interop.dll') }
    $library = [System.IO.Path]::Combine($moduleDir, 'runtimes', [CrmSync.Interop.Native]::CurrentRid, 'native', [CrmSync.Interop.Native]::NativeFileName)

    $sim = Start-TestSimulator
    $arguments = @($library, $sim.Url, $sim.OrganizationId, [string]($SimMailboxes + $SimQueues))
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
        $output = & $exe @arguments 2>&1 | ForEach-Object { [string]$_ }
    }
    else {
        $mono = Get-Command mono -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -eq $mono) { throw 'Mono is required to run the net472 harness outside Windows: install mono-complete (tools/bootstrap.sh does).' }
        $output = & $mono.Source $exe @arguments 2>&1 | ForEach-Object { [string]$_ }
    }
    $script:HarnessExitCode = $LASTEXITCODE
    $script:HarnessOutput = $output -join [Environment]::NewLine
}
AfterAll {
    Stop-DataverseSim -Simulator $sim
}

Describe 'The net472 harness' {
    It 'builds against the .NET Framework 4.7.2 reference assemblies' {
        $BuildExitCode | Should -Be 0 -Because $BuildOutput
    }

    It 'runs on .NET Framework or Mono, not on .NET (Core)' {
        $HarnessOutput | Should -Match 'runtime: 4\.0\.30319\.\d+ \((Mono|\.NET Framework)\)'
    }

    It 'passes <_>' -ForEach @('load', 'connect', 'paged listing', 'bulk approval', 'invalid configuration') {
        $HarnessOutput | Should -Match ('(?m)^PASS ' + [regex]::Escape($_) + '\s*$') -Because $HarnessOutput
    }

    It 'exits 0 with no failed check' {
        $HarnessOutput | Should -Not -Match '(?m)^FAIL '
        $HarnessExitCode | Should -Be 0 -Because $HarnessOutput
    }
}
