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

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline. Several
    connections (one per environment, as from Connect-CrmOnline -Url a,b,c) run the setup in
    every environment concurrently, each through its own connection and limits; the result is one
    CrmServerSideSync.MultiEnvironmentSetupReport with a summary per environment and every mailbox
    row tagged with its Environment. An environment that fails (privilege, unreachable) is reported
    for that environment (a non-terminating error) and does not stop the others.

    .PARAMETER ThrottleLimit
    With several connections: how many environments run at once (default 4).

    .PARAMETER Environment
    What the environment is (the Power Platform types). Anything but Production declares it
    non-production: the setup then refuses -SyncWithThisOrgOnly (marking its mailboxes
    organization-primary would take appointments, contacts and tasks away from production)
    unless -Force. Without -Environment, each connection's EnvironmentType applies (from
    Connect-CrmOnline -EnvironmentType, or the discovery service's type when Get-CrmEnvironment
    was piped into Connect-CrmOnline); -Environment overrides it for every connection. Microsoft recommends no synchronization at all in non-production environments
    (Disable-CrmServerSideSync).

    .PARAMETER Force
    Marks mailboxes organization-primary in an environment declared non-production. With several
    connections, the environments compare the mailboxes each reads for its own setup (no extra
    request when every mailbox is selected) and each leaves out the addresses another given
    environment owns (synchronized there with the organization-primary flag, or tested there):
    Test & Enable would turn their synchronization off there. -Force skips that check and sets
    them up everywhere.

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

    .EXAMPLE
    $all = Connect-CrmOnline -Url https://contoso.crm.dynamics.com, https://contoso-emea.crm4.dynamics.com -ManagedIdentity
    $report = Invoke-CrmExchangeOnlineSetup -Connection $all -JournalPath ./setup.jsonl -Confirm:$false
    $report.Environments | Format-Table Organization, Status, MailboxCount, Failed, Error

    Sets up two environments in one run, with one journal for both, and shows each environment's outcome.

    .OUTPUTS
    CrmServerSideSync.SetupReport, or CrmServerSideSync.MultiEnvironmentSetupReport with several connections
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.SetupReport', 'CrmServerSideSync.MultiEnvironmentSetupReport')]
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

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object[]] $Connection,

        [ValidateRange(1, 64)]
        [int] $ThrottleLimit = 4,

        [ValidateSet('Production', 'Sandbox', 'Developer', 'Trial', 'Default')]
        [string] $Environment,

        [switch] $Force
    )
    begin {
        $connections = @(Resolve-CrmConnectionSet -Cmdlet $PSCmdlet -Connection $Connection)
        $conn = $connections[0]
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
        if ($SyncWithThisOrgOnly -and -not $Force) { Assert-CrmNonProductionGuard -Cmdlet $PSCmdlet -Connections $connections -Environment $Environment }
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
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        $activity = "Exchange Online setup on $($conn.Url)"
        $target = Format-CrmSelection -Selection $selection
        if (-not $whatIf -and $connections.Count -gt 1) {
            $names = @($connections | ForEach-Object { Get-CrmEnvironmentName -Connection $_ }) -join ', '
            if (-not $PSCmdlet.ShouldProcess("$($connections.Count) environments: $names", 'Set up server-side synchronization')) { return }
        }
        elseif (-not $whatIf) {
            $go = Confirm-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartSetup' -Request $request -Action 'Set up server-side synchronization for' -Target $target -ConfirmImpact Medium -Activity $activity
            if (-not $go) { return }
        }
        $request['what_if'] = $whatIf

        $startedAt = [DateTime]::Now
        if ($connections.Count -gt 1) {
            # Readiness across environments: an address one of them owns is not tested in another
            # (compared from the mailboxes each environment reads anyway; -Force skips it).
            Invoke-CrmMultiEnvironmentSetup -Cmdlet $PSCmdlet -Connections $connections -Request $request -WhatIf $whatIf -ThrottleLimit $ThrottleLimit -StartedAt $startedAt -CompareOwnership:(-not $Force)
            return
        }
        $state = New-CrmSetupState -Connection $conn -WhatIf $whatIf
        $summary = $null
        Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartSetup' -Request (ConvertTo-CrmRequestJson -Document $request) -Activity $activity -Result ([ref]$summary) -TargetObject $target -TypedItems | ForEach-Object {
            Add-CrmSetupEvent -Cmdlet $PSCmdlet -State $state -Event $_
        }

        $report = Complete-CrmSetupReport -Rows $state.Rows -Result $summary -WhatIf $whatIf -Checks $state.Checks.ToArray() -OrganizationChanges $state.OrgChanges.ToArray() -Alerts $state.Alerts.ToArray() -Connection $conn -StartedAt $startedAt
        if ($whatIf) {
            foreach ($row in @($report.Mailboxes | Where-Object { $_.Result -eq 'WillChange' })) {
                [void]$PSCmdlet.ShouldProcess((Get-CrmMailboxLabel -Item $row), $row.Changes)
            }
        }
        Write-Verbose $report.Summary
        $report
    }
}
