# Dot-sourced by the *.Tests.ps1 files (in BeforeAll): paths and small helpers shared by the tests.

$script:RepoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
$script:BuildConfiguration = 'Release'
if (-not [string]::IsNullOrEmpty($env:CRMSYNC_BUILD_CONFIGURATION)) { $script:BuildConfiguration = $env:CRMSYNC_BUILD_CONFIGURATION }
# CRMSYNC_MODULE_PATH lets the same tests run against the packaged module (out/CrmServerSideSync).
$script:ModuleManifest = Join-Path $script:RepoRoot 'powershell/CrmServerSideSync/CrmServerSideSync.psd1'
if (-not [string]::IsNullOrEmpty($env:CRMSYNC_MODULE_PATH)) { $script:ModuleManifest = $env:CRMSYNC_MODULE_PATH }

$script:SimClientId = '5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f'
$script:SimClientSecret = 'sim-client-secret'
$script:SimMailboxes = 50
$script:SimQueues = 5

Import-Module (Join-Path $PSScriptRoot '../../crates/dataverse-sim/SimulatorHelper.psm1') -Force

function ConvertTo-TestSecureString([string] $Text) {
    ConvertTo-SecureString -String $Text -AsPlainText -Force
}

function Start-TestSimulator {
    Start-DataverseSim -Mailboxes $script:SimMailboxes -Queues $script:SimQueues -Path (Get-DataverseSimPath -Configuration $script:BuildConfiguration)
}

function Connect-TestSimulator([object] $Simulator, [string] $Token = 'sim-token-admin') {
    Connect-CrmOnline -Url $Simulator.Url -AccessToken (ConvertTo-TestSecureString $Token)
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

function Invoke-ChildPowerShell {
    # Runs a script in a fresh PowerShell process of the same edition; returns Output (text) and ExitCode.
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $exe = Get-PowerShellExe
    $file = Join-Path ([System.IO.Path]::GetTempPath()) ('crmsync-child-' + [guid]::NewGuid().ToString('N') + '.ps1')
    [System.IO.File]::WriteAllText($file, $Script, (New-Object System.Text.UTF8Encoding($true)))
    $saved = @{}
    foreach ($name in $Environment.Keys) {
        $saved[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $Environment[$name])
    }
    try {
        $output = & $exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $file 2>&1 | ForEach-Object { [string]$_ }
        $code = $LASTEXITCODE
    }
    finally {
        Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        foreach ($name in $saved.Keys) { [System.Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
    [pscustomobject]@{ Output = ($output -join [Environment]::NewLine); ExitCode = $code }
}
