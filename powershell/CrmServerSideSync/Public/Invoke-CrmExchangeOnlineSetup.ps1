function Invoke-CrmExchangeOnlineSetup {
    <#
    .SYNOPSIS
    Runs the whole "Connect Dynamics 365 to Exchange Online" procedure, idempotently, and returns one report.

    .DESCRIPTION
    In one native operation, with progress:
    1. Readiness checks (Test-CrmExchangeReadiness); a missing Exchange Online profile stops the run.
    2. The email server profile (default "Microsoft Exchange Online") becomes the active default,
       and the organization's defaults become server-side synchronization for incoming, outgoing
       and appointments/contacts/tasks, processed with server-side synchronization.
    3. Every selected active mailbox gets that profile and those delivery methods.
    4. Their email is approved (unless -SkipApproval).
    5. Test & Enable runs for the mailboxes that were not already working (-Wait for the results).

    Each step writes only what differs, so running it again changes nothing and tests nothing.
    With -WhatIf nothing is written: the report lists what would change ("What if:" lines name
    each mailbox's changes, from -> to). With -Confirm the question is asked once, with counts.

    Returns ONE report (CrmServerSideSync.SetupReport): Summary (one line), Steps (counts per
    step), Mailboxes (one row per mailbox: per-step outcomes, changes, final statuses, count and
    summary of the warning and error alerts, error; scalar columns, ready for Export-Csv), Checks,
    OrganizationChanges, Alerts (the warning and error alerts the tests raised; the Information
    alert of each successful test is left out: Get-CrmMailboxAlert lists every alert).
    Each failed mailbox step is also a non-terminating error (TargetObject: the mailbox's row).

    .PARAMETER Mailbox
    Mailboxes to set up, by name, email address or id (default: every active mailbox).

    .PARAMETER MailboxId
    Mailbox ids; bound by property name from piped mailbox objects (collected into one run).

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER ServerProfile
    The email server profile to use, by name or id (default 'Microsoft Exchange Online').

    .PARAMETER SyncWithThisOrgOnly
    Sets "Sync items with Exchange from this org only" on the mailboxes.

    .PARAMETER SkipApproval
    Do not approve email (for example when an Exchange administrator approves separately).

    .PARAMETER Wait
    Wait for the Test & Enable results (otherwise tests are reported as Scheduled).

    .PARAMETER Timeout
    How long -Wait waits: a TimeSpan or a number of seconds (default 10 minutes).

    .PARAMETER PollInterval
    How often -Wait reads the mailboxes back (a TimeSpan or milliseconds; default 5 seconds).

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Invoke-CrmExchangeOnlineSetup -WhatIf

    Shows the plan for every active mailbox without writing anything.

    .EXAMPLE
    $report = Invoke-CrmExchangeOnlineSetup -Wait
    $report.Steps | Format-Table
    $report.Mailboxes | Where-Object Result -eq 'Failed' | Format-List Name, Error, AlertSummary
    $report.Mailboxes | Export-Csv -Path setup.csv -NoTypeInformation

    Runs the procedure, waits for the tests, shows the step counts and the failures, and saves
    one row per mailbox.

    .EXAMPLE
    Invoke-CrmExchangeOnlineSetup -Mailbox 'Avery Adams', 'support1@contoso.com' -SyncWithThisOrgOnly -Wait -Timeout 300

    Sets up two mailboxes and waits at most five minutes for their tests.

    .OUTPUTS
    CrmServerSideSync.SetupReport
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.SetupReport')]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string[]] $Mailbox,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]] $MailboxId,

        [ValidateNotNullOrEmpty()]
        [string] $Filter,

        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile = 'Microsoft Exchange Online',

        [switch] $SyncWithThisOrgOnly,

        [switch] $SkipApproval,

        [switch] $Wait,

        [ValidateNotNull()]
        [object] $Timeout = (New-TimeSpan -Minutes 10),

        [Parameter(DontShow)]
        [ValidateNotNull()]
        [object] $PollInterval,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    begin {
        $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
        $collector = New-CrmSelectionCollector -BoundParameters $PSBoundParameters
        try {
            $timeoutSecs = ConvertTo-CrmTimeoutSeconds -Value $Timeout
            $pollMs = $null
            if ($PSBoundParameters.ContainsKey('PollInterval')) {
                if ($PollInterval -is [TimeSpan]) { $pollMs = [int]$PollInterval.TotalMilliseconds } else { $pollMs = [int]$PollInterval }
            }
        }
        catch {
            $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord ($_.Exception, 'CrmSync.InvalidTimeout', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Timeout)))
        }
    }
    process {
        Add-CrmSelectionInput -Collector $collector -Cmdlet $PSCmdlet -MailboxId $MailboxId
    }
    end {
        # The whole procedure is meant for every mailbox: an empty selection means all active ones.
        $selection = New-CrmMailboxSelection -Collector $collector -Cmdlet $PSCmdlet -Filter $Filter -All
        if ($null -eq $selection) { return }
        $whatIf = [bool]$WhatIfPreference
        $request = [ordered]@{
            selection               = $selection
            server_profile          = $ServerProfile
            sync_with_this_org_only = [bool]$SyncWithThisOrgOnly
            skip_approval           = [bool]$SkipApproval
            wait                    = [bool]$Wait
            timeout_secs            = $timeoutSecs
        }
        if ($null -ne $pollMs) { $request['poll_interval_ms'] = $pollMs }
        $activity = "Exchange Online setup on $($conn.Url)"
        $target = Format-CrmSelection -Selection $selection
        if (-not $whatIf) {
            $go = Confirm-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartSetup' -Request $request -Action 'Set up server-side synchronization for' -Target $target -ConfirmImpact Medium -Activity $activity
            if (-not $go) { return }
        }
        $request['what_if'] = $whatIf

        $startedAt = [DateTime]::Now
        $rows = [CrmServerSideSync.SetupMailbox]::NewIndex()
        $checks = New-Object 'System.Collections.Generic.List[object]'
        $orgChanges = New-Object 'System.Collections.Generic.List[object]'
        $alerts = New-Object 'System.Collections.Generic.List[object]'
        $summary = $null
        Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartSetup' -Request (ConvertTo-CrmRequestJson -Document $request) -Activity $activity -Result ([ref]$summary) -TargetObject $target | ForEach-Object {
            $evt = $_
            switch ([string]$evt.type) {
                'check' {
                    $check = ConvertTo-CrmReadinessCheck -Check $evt
                    $checks.Add($check)
                    if ($check.Status -eq 'Warning') { Write-Verbose "Readiness check $($check.Check) (Warning): $($check.Message)" }
                    if ($check.Status -eq 'Fail') { Write-Warning ("Readiness check $($check.Check) ($($check.Status)): $($check.Message) $($check.Remedy)".TrimEnd()) }
                }
                'changes' {
                    foreach ($c in @($evt.changes | Where-Object { $null -ne $_ })) {
                        $change = [pscustomobject][ordered]@{
                            PSTypeName = 'CrmServerSideSync.OrganizationChange'
                            Target     = [string]$c.target
                            Field      = [string]$c.field
                            From       = Format-CrmValue $c.from
                            To         = Format-CrmValue $c.to
                        }
                        $orgChanges.Add($change)
                        $line = Format-CrmChange -Change @($c)
                        if ($whatIf) { [void]$PSCmdlet.ShouldProcess("$($change.Target) $($conn.OrganizationName)", $line) }
                        else { Write-Verbose "Organization: $line" }
                    }
                }
                'item' {
                    $result = ConvertTo-CrmMailboxResult -ItemEvent $evt
                    $row = Add-CrmSetupItem -Rows $rows -Result $result -Alerts $alerts
                    $label = Get-CrmMailboxLabel -Item $result
                    if ($evt.PSObject.Properties['error'] -and $null -ne $evt.error) {
                        $PSCmdlet.WriteError((New-CrmItemErrorRecord -ErrorDocument $evt.error -TargetObject $row -Label "$label ($($result.Step))"))
                    }
                    elseif (-not $whatIf) { Write-Verbose ("$label $($result.Step): $($result.Outcome) $($result.Changes)".TrimEnd()) }
                }
                default { Write-Debug "Ignoring event of type '$($evt.type)'." }
            }
        }

        $report = Complete-CrmSetupReport -Rows $rows -Result $summary -WhatIf $whatIf -Checks $checks.ToArray() -OrganizationChanges $orgChanges.ToArray() -Alerts $alerts.ToArray() -Connection $conn -StartedAt $startedAt
        if ($whatIf) {
            foreach ($row in @($report.Mailboxes | Where-Object { $_.Result -eq 'WillChange' })) {
                [void]$PSCmdlet.ShouldProcess((Get-CrmMailboxLabel -Item $row), $row.Changes)
            }
        }
        Write-Verbose $report.Summary
        $report
    }
}
