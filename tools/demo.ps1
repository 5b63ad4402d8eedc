<#
.SYNOPSIS
The crmsync demo against the Dataverse simulator: day one (connect, readiness, plan, setup,
approval, the idempotent second run, alerts) and day two (the health report, injected failures,
Repair-CrmMailbox -Wait, the report again with the changes since the first one).

.DESCRIPTION
Run by ./build.ps1 -Task Demo after the build (the module's lib/ and runtimes/ must be laid out).
Needs nothing but the simulator binary: every token and secret is the simulator's own.

.PARAMETER Configuration
The cargo profile whose simulator binary is used (Release, as build.ps1 builds it).

.EXAMPLE
./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release'
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Root = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '..'))
$ModuleName = 'CrmServerSideSync'
$ModuleDir = Join-Path $Root "powershell/$ModuleName"
$ToolsDir = Join-Path $Root '.tools'

function Write-DemoSection([string] $Title) {
    Write-Host ''
    Write-Host $Title -ForegroundColor Green
}

function Write-DemoTable([object[]] $Rows, [string[]] $Property, [int] $Width = 200) {
    if (@($Rows).Count -eq 0) { Write-Host '  (none)'; return }
    $table = $Rows | Format-Table -Property $Property -AutoSize -Wrap | Out-String -Width $Width
    Write-Host $table.TrimEnd()
}

Import-Module (Join-Path $Root 'crates/dataverse-sim/SimulatorHelper.psm1') -Force
Write-Host '==> Demo: connect Dynamics 365 to Exchange Online, against the Dataverse simulator' -ForegroundColor Cyan
$simPath = Get-DataverseSimPath -Configuration $Configuration
# A short simulated Test & Enable delay when the simulator supports it (-TestDelayMs is ignored otherwise).
$sim = Start-DataverseSim -Mailboxes 60 -Queues 5 -TestDelayMs 1500 -SyncIntervalMs 5000 -Path $simPath
try {
    Write-Host "Simulator listening at $($sim.Url) (tenant $($sim.TenantId)): 60 users and 5 queues with mailboxes."
    Import-Module (Join-Path $ModuleDir "$ModuleName.psd1") -Force
    $secret = ConvertTo-SecureString 'sim-client-secret' -AsPlainText -Force

    Write-DemoSection '1. Connect-CrmOnline (client secret)'
    $connection = Connect-CrmOnline -Url $sim.Url -ClientId '5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f' -TenantId $sim.TenantId -ClientSecret $secret -AuthorityHost $sim.Url
    Write-Host "Connected to $($connection.OrganizationName) ($($connection.OrganizationId)) as $($connection.UserId)."

    Write-DemoSection '2. Test-CrmExchangeReadiness'
    Write-DemoTable -Rows @(Test-CrmExchangeReadiness) -Property Check, Status, Message

    Write-DemoSection '3. Invoke-CrmExchangeOnlineSetup -WhatIf (the plan: nothing is written)'
    # The "What if:" lines (one per mailbox) go to the host; here only the report is shown.
    $plan = Invoke-CrmExchangeOnlineSetup -WhatIf -WarningAction SilentlyContinue
    Write-Host $plan.Summary
    Write-Host ''
    Write-Host '  Organization defaults to change:' -ForegroundColor DarkGreen
    Write-DemoTable -Rows @($plan.OrganizationChanges) -Property Target, Field, From, To
    Write-Host ''
    Write-Host '  Planned per step:' -ForegroundColor DarkGreen
    Write-DemoTable -Rows @($plan.Steps) -Property Step, Planned, Unchanged, Failed
    Write-Host ''
    Write-Host '  A few mailboxes (from -> to):' -ForegroundColor DarkGreen
    Write-DemoTable -Rows @($plan.Mailboxes | Select-Object -First 4) -Property Name, OwnerType, Changes

    Write-DemoSection '4. Invoke-CrmExchangeOnlineSetup -Wait, as the application user (configure, approve, Test & Enable)'
    $report = Invoke-CrmExchangeOnlineSetup -Wait -PollInterval 500 -Timeout 300 -ErrorAction SilentlyContinue -ErrorVariable setupErrors -WarningAction SilentlyContinue
    Write-Host $report.Summary
    Write-Host ''
    Write-DemoTable -Rows @($report.Steps) -Property Step, Changed, Unchanged, Failed, Scheduled, Succeeded, TimedOut
    $failed = @($report.Mailboxes | Where-Object { $_.Result -ne 'Working' -and $_.Result -ne 'AlreadyWorking' })
    Write-Host ''
    Write-Host "  Mailboxes not working: $($failed.Count) (errors written: $(@($setupErrors).Count)). The first two, with their alerts:" -ForegroundColor DarkGreen
    foreach ($row in @($failed | Select-Object -First 2)) {
        Write-Host ($row | Format-List -Property Name, Result, MailboxSettings, ApproveEmail, TestAndEnable, MailboxStatus, Error, AlertSummary | Out-String -Width 160).TrimEnd()
    }
    $csv = Join-Path $ToolsDir 'demo-setup-report.csv'
    New-Item -ItemType Directory -Path $ToolsDir -Force | Out-Null
    $report.Mailboxes | Export-Csv -LiteralPath $csv -NoTypeInformation
    Write-Host ''
    Write-Host "  One row per mailbox saved to $csv"

    Write-DemoSection '5. An Exchange administrator approves the email (Approve-CrmMailbox -All with their own connection)'
    # An application user cannot hold the Microsoft 365 Global/Exchange Administrator role: a
    # human administrator approves (sim-token-admin stands for that administrator's token).
    $admin = Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)
    $approvals = @(Approve-CrmMailbox -All -Connection $admin -PassThru -ErrorAction SilentlyContinue)
    Write-DemoTable -Rows @($approvals | Group-Object -Property Outcome | Sort-Object Name) -Property Name, Count
    Disconnect-CrmOnline -Connection $admin
    $null = Connect-CrmOnline -Url $sim.Url -ClientId '5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f' -TenantId $sim.TenantId -ClientSecret $secret -AuthorityHost $sim.Url

    Write-DemoSection '6. Invoke-CrmExchangeOnlineSetup -Wait again, as the application user (tests the mailboxes not working yet)'
    $report = Invoke-CrmExchangeOnlineSetup -Wait -PollInterval 500 -Timeout 300 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    Write-Host $report.Summary
    Write-Host ''
    Write-DemoTable -Rows @($report.Steps) -Property Step, Changed, Unchanged, Failed, Scheduled, Succeeded, TimedOut
    Write-Host ''
    Write-DemoTable -Rows @($report.Mailboxes | Select-Object -First 5) -Property Name, OwnerType, Result, TestAndEnable, IncomingEmailStatus, OutgoingEmailStatus, ActStatus, MailboxStatus

    Write-DemoSection '7. Invoke-CrmExchangeOnlineSetup -Wait once more (idempotent: nothing to change, nothing to test)'
    $again = Invoke-CrmExchangeOnlineSetup -Wait -PollInterval 500 -Timeout 300 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    Write-Host $again.Summary
    Write-DemoTable -Rows @($again.Steps) -Property Step, Changed, Unchanged, Failed, Scheduled, Succeeded

    Write-DemoSection '8. Get-CrmMailboxAlert -Level Error -First 5'
    Write-DemoTable -Rows @(Get-CrmMailboxAlert -Level Error -First 5) -Property CreatedOn, ErrorType, RegardingName, Text


    Write-Host ''
    Write-Host '==> Day two: the health of every mailbox, why some fail, and repair' -ForegroundColor Cyan
    $admin = Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)

    Write-DemoSection '9. Get-CrmMailboxHealth -Summary (the nightly report, after the setup)'
    $yesterday = @(Get-CrmMailboxHealth -Connection $admin)
    Write-Host ((Get-CrmMailboxHealth -Connection $admin -Summary | Format-List -Property Mailboxes, Healthy, Unhealthy, Repairable | Out-String).Trim())

    Write-DemoSection '10. Things go wrong: a removed licence, a changed owner, a read-only user, EWS turned off, a cleared profile'
    # The simulator's control route injects each failure the documented way (a real row change,
    # or an Entra/Exchange condition only the simulator knows); the next sync cycle shows it.
    $users = @($yesterday | Where-Object OwnerType -eq 'systemuser' | Sort-Object Name)
    $inject = @{ 'license' = $users[1]; 'owner-mismatch' = $users[2]; 'access-mode' = $users[3]; 'ews-disabled' = $users[4] }
    foreach ($kind in @($inject.Keys | Sort-Object)) {
        $body = @{ kind = $kind } | ConvertTo-Json -Compress
        $null = Invoke-RestMethod -Method Post -Uri "$($sim.Url.TrimEnd('/'))/_sim/mailboxes/$($inject[$kind].MailboxId)/failure" -Body $body -ContentType 'application/json'
        Write-Host "  $kind -> $($inject[$kind].Name)"
    }
    $null = Invoke-RestMethod -Method Patch -Uri "$($sim.Url.TrimEnd('/'))/_sim/rows/mailboxes/$($users[5].MailboxId)" -Body '{"_emailserverprofile_value":null}' -ContentType 'application/json'
    Write-Host "  no profile -> $($users[5].Name)"
    Write-Host ''
    $unhealthy = @(Get-CrmMailboxHealth -Connection $admin | Where-Object Health -ne 'Healthy')
    Write-DemoTable -Rows $unhealthy -Property Name, Health, Repairable, Diagnosis, Reason

    Write-DemoSection '11. Get-CrmMailboxHealth | Where-Object Health -ne Healthy | Repair-CrmMailbox -Wait'
    $repaired = @($unhealthy | Repair-CrmMailbox -Connection $admin -Wait -PollInterval 500 -Timeout 120 -Confirm:$false -ErrorVariable notRepaired -ErrorAction SilentlyContinue)
    Write-DemoTable -Rows $repaired -Property Name, Before, Health, Fixes
    Write-Host ''
    Write-Host "  Not repairable by crmsync ($(@($notRepaired).Count)), each a non-terminating error with its remedy:" -ForegroundColor DarkGreen
    Write-DemoTable -Rows @($notRepaired | ForEach-Object { $_.TargetObject }) -Property Name, Health, Diagnosis, DiagnosisSource, Remedy

    Write-DemoSection '12. Get-CrmMailboxHealth -Baseline (what changed since the report of step 9)'
    $summary = Get-CrmMailboxHealth -Connection $admin -Baseline $yesterday -Summary
    Write-Host ((($summary | Format-List -Property Mailboxes, Healthy, Unhealthy, Repairable | Out-String).Trim()))
    Write-DemoTable -Rows @($summary.Changed) -Property Name, From, To
    Disconnect-CrmOnline -Connection $admin

    Disconnect-CrmOnline
}
finally {
    Stop-DataverseSim -Simulator $sim
}
