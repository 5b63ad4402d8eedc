<#
.SYNOPSIS
Requests and wall time of Invoke-CrmExchangeOnlineSetup on three simulated environments in one
run, next to the same setup on one environment (fresh simulators with the same seed, 20 ms of
latency per request). Prints one line of numbers per repetition.
.EXAMPLE
pwsh -NoProfile -File tools/bench-multi-environment.ps1 -Mailboxes 500 -Repeat 3
#>
param(
    [int] $Mailboxes = 500,
    [int] $Repeat = 3,
    [int] $LatencyMs = 20,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../powershell/CrmServerSideSync/CrmServerSideSync.psd1'),
    [string] $Simulator = (Join-Path $PSScriptRoot '../target/release/dataverse-sim')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../crates/dataverse-sim/SimulatorHelper.psm1') -Force
Import-Module $ModulePath -Force
$token = ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force
function Start-Environment { Start-DataverseSim -Mailboxes $Mailboxes -Queues ([int]($Mailboxes / 50)) -ArgumentList @('--latency-ms', [string]$LatencyMs) -Path $Simulator -TimeoutSeconds 60 }
function Get-Requests($sim) { [int](Invoke-RestMethod -Uri "$($sim.Url)/_sim/stats").requests }

# One warm-up run, so that neither measurement pays the session's one-time costs.
$warm = Start-Environment
try { $null = Invoke-CrmExchangeOnlineSetup -Connection (Connect-CrmOnline -Url $warm.Url -AccessToken $token) -Confirm:$false } finally { Stop-DataverseSim $warm }

for ($r = 1; $r -le $Repeat; $r++) {
    $sims = @(Start-Environment; Start-Environment; Start-Environment; Start-Environment)
    try {
        $one = Connect-CrmOnline -Url $sims[3].Url -AccessToken $token
        $three = @(Connect-CrmOnline -Url $sims[0].Url, $sims[1].Url, $sims[2].Url -AccessToken $token)
        $before = Get-Requests $sims[3]
        $singleTime = (Measure-Command { $null = Invoke-CrmExchangeOnlineSetup -Connection $one -Confirm:$false }).TotalSeconds
        $single = (Get-Requests $sims[3]) - $before
        $befores = @(0..2 | ForEach-Object { Get-Requests $sims[$_] })
        $multiTime = (Measure-Command { $null = Invoke-CrmExchangeOnlineSetup -Connection $three -Confirm:$false }).TotalSeconds
        $per = @(0..2 | ForEach-Object { (Get-Requests $sims[$_]) - $befores[$_] })
        '{0} mailboxes per environment: one environment {1} requests in {2:N2} s; three environments {3} requests each in {4:N2} s' -f ($Mailboxes + [int]($Mailboxes / 50)), $single, $singleTime, ($per -join '/'), $multiTime
    }
    finally {
        foreach ($s in $sims) { Stop-DataverseSim $s }
    }
}
