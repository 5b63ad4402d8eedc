<#
.SYNOPSIS
Wall time and peak memory of a PowerShell process running the whole procedure through the module
on a large simulated organization, limits off. Called by `build.ps1 -Task Bench` (which compares
the wall time with examples/bench_procedure.rs on an identical simulator); prints one line of
numbers, ending in ps_seconds=<s> peak_mb=<MB>.
#>
param(
    [int] $Mailboxes = 50000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../powershell/CrmServerSideSync/CrmServerSideSync.psd1'),
    [string] $Simulator = (Join-Path $PSScriptRoot '../target/release/dataverse-sim')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../crates/dataverse-sim/SimulatorHelper.psm1') -Force
Import-Module $ModulePath -Force
# Limits off: this run measures what the module costs, the Rust benchmark measures pacing. The
# same arguments as examples/bench_procedure.rs.
$sim = Start-DataverseSim -Mailboxes $Mailboxes -Queues ([int]($Mailboxes / 50)) -TestDelayMs 1000 -ArgumentList @('--no-limits') -TimeoutSeconds 120
try {
    $token = ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force
    Connect-CrmOnline -Url $sim.Url -AccessToken $token | Out-Null
    $started = [DateTime]::UtcNow
    $report = Invoke-CrmExchangeOnlineSetup -Wait -Timeout 1800 -Confirm:$false
    $elapsed = ([DateTime]::UtcNow - $started).TotalSeconds
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $peak = $process.PeakWorkingSet64 / 1MB
    '{0} mailboxes through Invoke-CrmExchangeOnlineSetup -Wait: {1:N1} s, report rows {2}, peak working set of the PowerShell process {3:N0} MB, ps_seconds={4} peak_mb={5}' -f `
        $report.MailboxCount, $elapsed, @($report.Mailboxes).Count, $peak, $elapsed.ToString('0.000', [cultureinfo]::InvariantCulture), $peak.ToString('0', [cultureinfo]::InvariantCulture)
}
finally {
    Stop-DataverseSim $sim
}
