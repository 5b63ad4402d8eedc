function Get-CrmMailboxHealth {
    <#
    .SYNOPSIS
    Reports the server-side synchronization health of mailboxes: which synchronize, which do
    not, why, and what to do.

    .DESCRIPTION
    Reads the selected mailboxes in one paged read (only the columns health needs) and the latest
    error and warning alerts in one query, and classifies each mailbox as exactly one of:
    Healthy, NotConfigured (no profile, an inactive one, or no server-side synchronization),
    PendingApproval, NotTested, TestScheduled, Failing (the last test or synchronization failed,
    still enabled), Disabled (disabled for processing after errors), Stale (enabled and tested,
    but no successful synchronization for longer than -StaleAfter) or Inactive.

    Each row (CrmServerSideSync.MailboxHealth) has the Health, the Reason, the Remedy, whether
    Repair-CrmMailbox can repair it (Repairable, Repairs), the documented failure behind it
    (Diagnosis, DiagnosisSource) and the facts: delivery methods and profile, approval, the
    test and synchronization statuses and times, the last error and the latest alerts. An error
    no source documents is shown raw, with the service's text.

    Without a selection every mailbox (active and inactive) is reported. Only reads: a user with
    read access to mailboxes, profiles, the organization and alerts is enough.

    .PARAMETER Mailbox
    The mailboxes by identity, as with Exchange's -Identity: each value is a mailbox name, an email
    address or a mailbox id (a GUID), told apart by its shape. Positional.

    .PARAMETER MailboxId
    Ids of the mailboxes; bound by property name from piped objects.

    .PARAMETER Name
    Exact mailbox names.

    .PARAMETER EmailAddress
    Exact email addresses.

    .PARAMETER ServerProfile
    Every mailbox of this email server profile (name or id).

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER All
    Every mailbox (the default when nothing else selects mailboxes).

    .PARAMETER Health
    Only write rows of these classes (the summary still counts every selected mailbox).

    .PARAMETER StaleAfter
    How long without a successful synchronization makes an enabled, tested mailbox Stale: a
    TimeSpan or a number of seconds (default 24 hours).

    .PARAMETER Baseline
    A previous result: its rows (objects with MailboxId and Health), or the path of its export
    as .json (ConvertTo-Json) or .csv (Export-Csv). The summary's Changed lists the mailboxes
    whose class differs (From is empty for a mailbox the baseline did not have).

    .PARAMETER Summary
    Write the summary object (CrmServerSideSync.MailboxHealthSummary: counts per class,
    Unhealthy, Repairable, Changed) instead of the rows.

    .PARAMETER SummaryVariable
    Also store the summary in this variable of the caller, while the rows are written.

    .PARAMETER FailOnUnhealthy
    After writing everything, end with a terminating error when any reported mailbox is not
    Healthy, so that a scheduled job fails visibly.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.
    Several connections (Connect-CrmOnline -Url a,b,c) are read concurrently: every row carries
    its Environment, there is one summary per environment, and an environment that fails is
    reported alone (a non-terminating error) without stopping the others.

    .PARAMETER ThrottleLimit
    With several connections, how many environments are read at once.

    .EXAMPLE
    Get-CrmMailboxHealth 'support1@contoso.example'

    Selects the mailbox by name, email address or id.

    .EXAMPLE
    $all = Connect-CrmOnline -Url https://contoso.crm.dynamics.com, https://contoso-test.crm.dynamics.com -ManagedIdentity
    Get-CrmMailboxHealth -Connection $all -Summary | Format-Table Environment, Mailboxes, Healthy, Unhealthy, Repairable

    The health of two environments in one run, one summary each.

    .EXAMPLE
    Get-CrmMailboxHealth | Where-Object Health -ne 'Healthy' | Format-Table Name, Health, Reason

    Lists every mailbox that does not synchronize, and why.

    .EXAMPLE
    Get-CrmMailboxHealth -Health Failing, Disabled | Format-List Name, Reason, Remedy, Diagnosis, DiagnosisSource, LastSyncError

    Explains each failing or disabled mailbox, with the documented cause and its source.

    .EXAMPLE
    $today = Get-CrmMailboxHealth -Baseline ./health-yesterday.json -SummaryVariable summary
    $summary.Changed | Format-Table
    $today | ConvertTo-Json -Depth 3 | Set-Content ./health-yesterday.json

    Shows which mailboxes changed class since yesterday's report, then keeps today's as the next baseline.

    .EXAMPLE
    Get-CrmMailboxHealth -ServerProfile 'Microsoft Exchange Online' -StaleAfter (New-TimeSpan -Hours 6) -FailOnUnhealthy

    Fails (for a scheduled job) when a mailbox of the profile is not healthy, counting six hours
    without a successful synchronization as stale.

    .OUTPUTS
    CrmServerSideSync.MailboxHealth, or CrmServerSideSync.MailboxHealthSummary with -Summary
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.MailboxHealth', 'CrmServerSideSync.MailboxHealthSummary')]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string[]] $Mailbox,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [string[]] $MailboxId,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]] $Name,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]] $EmailAddress,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('ProfileId')]
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile,

        [ValidateNotNullOrEmpty()]
        [string] $Filter,

        [switch] $All,

        [ValidateSet('Healthy', 'NotConfigured', 'PendingApproval', 'NotTested', 'TestScheduled', 'Failing', 'Disabled', 'Stale', 'Inactive')]
        [string[]] $Health,

        [ValidateNotNull()]
        [object] $StaleAfter = (New-TimeSpan -Hours 24),

        [ValidateNotNull()]
        [object[]] $Baseline,

        [switch] $Summary,

        [ValidateNotNullOrEmpty()]
        [string] $SummaryVariable,

        [switch] $FailOnUnhealthy,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object[]] $Connection,

        [ValidateRange(1, 64)]
        [int] $ThrottleLimit = 4
    )
    begin {
        $connections = @(Resolve-CrmConnectionSet -Cmdlet $PSCmdlet -Connection $Connection)
        $collector = New-CrmSelectionCollector -BoundParameters $PSBoundParameters
        try { $staleSecs = ConvertTo-CrmTimeoutSeconds -Value $StaleAfter }
        catch {
            $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord ($_.Exception, 'CrmSync.InvalidStaleAfter', [System.Management.Automation.ErrorCategory]::InvalidArgument, $StaleAfter)))
        }
        $baselineRows = $null
        if ($PSBoundParameters.ContainsKey('Baseline')) { $baselineRows = @(Read-CrmHealthBaseline -Baseline $Baseline -Cmdlet $PSCmdlet) }
    }
    process {
        Add-CrmSelectionInput -Collector $collector -Cmdlet $PSCmdlet -MailboxId $MailboxId -Name $Name -EmailAddress $EmailAddress -ServerProfile $ServerProfile
    }
    end {
        # A read: no selection means every mailbox (the configuration cmdlets insist on -All).
        $selection = New-CrmMailboxSelection -Collector $collector -Cmdlet $PSCmdlet -Filter $Filter -All
        if ($null -eq $selection) { return }
        $request = [ordered]@{ selection = $selection; stale_after_secs = $staleSecs }
        if ($Health) { $request['health'] = @($Health) }
        if ($null -ne $baselineRows) { $request['baseline'] = @($baselineRows) }
        $requestJson = ConvertTo-CrmRequestJson -Document $request
        # A hashtable: the per-event script blocks run in scopes of their own.
        $tally = @{ Unhealthy = 0 }
        $summaries = New-Object 'System.Collections.Generic.List[object]'
        if ($connections.Count -gt 1) {
            # Every environment read concurrently, each through its own connection and limits;
            # each row carries its Environment, and one environment failing is reported alone.
            $operations = @(foreach ($c in $connections) { @{ Connection = $c; Method = 'StartMailboxHealth'; Request = $requestJson; State = (Get-CrmEnvironmentName -Connection $c) } })
            Invoke-CrmOperationSet -Cmdlet $PSCmdlet -Operations $operations -Activity 'Mailbox health on' -ThrottleLimit $ThrottleLimit -OnEvent {
                param($entry, $evt)
                if ($evt.type -ne 'health') { return }
                if ($evt.health -ne 'Healthy') { $tally.Unhealthy++ }
                if (-not $Summary) {
                    $row = ConvertTo-CrmMailboxHealth -Row $evt
                    $row.Environment = $entry.State
                    $row
                }
            }
            foreach ($op in $operations) {
                if ($null -ne $op['Error']) { $PSCmdlet.WriteError((New-CrmEnvironmentErrorRecord -Record $op['Error'] -Environment $op.State -TargetObject $op.Connection)) }
                elseif ($null -ne $op['Result']) { $summaries.Add((New-CrmHealthSummary -Result $op['Result'] -Connection $op.Connection -Environment $op.State)) }
            }
        }
        else {
            $conn = $connections[0]
            $result = $null
            Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxHealth' -Request $requestJson -Activity "Mailbox health on $($conn.Url)" -Result ([ref]$result) | ForEach-Object {
                if ($_.type -ne 'health') { return }
                if ($_.health -ne 'Healthy') { $tally.Unhealthy++ }
                if (-not $Summary) { ConvertTo-CrmMailboxHealth -Row $_ }
            }
            if ($null -eq $result) { return }
            $summaries.Add((New-CrmHealthSummary -Result $result -Connection $conn -Environment (Get-CrmEnvironmentName -Connection $conn)))
        }
        # One summary per environment (a single object for one environment, as before).
        $summaryObject = $(if ($summaries.Count -eq 1) { $summaries[0] } else { $summaries.ToArray() })
        if ($SummaryVariable) { $PSCmdlet.SessionState.PSVariable.Set($SummaryVariable, $summaryObject) }
        if ($Summary) { $summaries }
        $unhealthy = $tally.Unhealthy
        $total = 0; $repairable = 0
        foreach ($one in $summaries) { $total += $one.Mailboxes; $repairable += $one.Repairable }
        Write-Verbose "Mailbox health: $total mailboxes in $($summaries.Count) environment(s), $unhealthy not healthy, $repairable repairable."
        if ($FailOnUnhealthy -and $unhealthy -gt 0) {
            $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord (
                        (New-Object System.InvalidOperationException ("$unhealthy of the reported mailboxes are not healthy (of $total selected; $repairable repairable with Repair-CrmMailbox).")),
                        'CrmSync.UnhealthyMailboxes', [System.Management.Automation.ErrorCategory]::InvalidResult, $summaryObject)))
        }
    }
}
