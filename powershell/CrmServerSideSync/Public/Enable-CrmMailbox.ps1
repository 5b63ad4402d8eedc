function Enable-CrmMailbox {
    <#
    .SYNOPSIS
    Tests and enables mailboxes for server-side synchronization ("Test & Enable Mailboxes").

    .DESCRIPTION
    Schedules the platform's asynchronous test of the selected active mailboxes in ONE bulk
    operation, then reads them back to verify the test was scheduled. With -Wait it polls until
    each mailbox has a result (or -Timeout passes) and reports, per mailbox, the incoming,
    outgoing and appointments/contacts/tasks statuses, the overall mailbox status and the alerts
    raised by the test. A mailbox whose test fails (for example because its email is not
    approved) is a non-terminating error explained by its alerts, with the remedy.

    Select mailboxes by piping them in (MailboxId), by -Name/-EmailAddress/-Filter, or all the
    mailboxes of an email server profile with -ServerProfile (or by piping the profile from
    Get-CrmEmailServerProfile). Selecting nothing is refused: use -All for every active mailbox.
    One result object (CrmServerSideSync.MailboxTestResult) is written per mailbox: the results
    are the point of the command. -WhatIf lists the mailboxes that would be tested; -Confirm asks
    once for the batch.

    .PARAMETER Mailbox
    The mailboxes by identity, as with Exchange's -Identity: each value is a mailbox name, an email
    address or a mailbox id (a GUID), told apart by its shape. Positional.

    .PARAMETER MailboxId
    Ids of the mailboxes; bound by property name from piped mailbox objects.

    .PARAMETER Name
    Exact mailbox names (several are combined with "or").

    .PARAMETER EmailAddress
    Exact email addresses (several are combined with "or").

    .PARAMETER ServerProfile
    Every mailbox of this email server profile (name or id); bound from the ProfileId of piped profiles.

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER All
    Every active mailbox (required when nothing else selects mailboxes).

    .PARAMETER SyncWithThisOrgOnly
    Also sets "Sync items with Exchange from this org only" on the tested mailboxes.

    .PARAMETER Wait
    Wait for the test results (otherwise the mailboxes are reported as Scheduled).

    .PARAMETER Timeout
    How long -Wait waits: a TimeSpan or a number of seconds (default 10 minutes). Tests still
    running then are reported as TimedOut (they go on in the service).

    .PARAMETER PollInterval
    How often -Wait reads the mailboxes back (a TimeSpan or milliseconds; default 5 seconds).

    .PARAMETER OtherEnvironment
    Connections to the other environments that may synchronize the same mailboxes. Before testing,
    a readiness check reads them: a selected mailbox whose address another of them owns (it is
    synchronized there and holds the organization-primary flag, or passed its test) is refused
    with a non-terminating error, since Test & Enable here would turn its synchronization off
    there.

    .PARAMETER Force
    Test & Enable the mailboxes another environment owns anyway (a warning for each).

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Enable-CrmMailbox 'support1@contoso.example' -Wait

    Selects the mailbox by name, email address or id.

    .EXAMPLE
    Enable-CrmMailbox -All -Connection $test -OtherEnvironment $production

    Tests the mailboxes of a test environment, except those production already synchronizes.

    .EXAMPLE
    Get-CrmEmailServerProfile -Name 'Microsoft Exchange Online' | Enable-CrmMailbox -Wait

    Tests and enables every mailbox of the Exchange Online profile and waits for the results.

    .EXAMPLE
    Get-CrmMailbox -Name 'Avery Adams' | Enable-CrmMailbox -Wait -Timeout (New-TimeSpan -Minutes 3) | Format-List

    Tests one mailbox, waiting at most three minutes, and shows the statuses and alerts.

    .EXAMPLE
    Enable-CrmMailbox -All -SyncWithThisOrgOnly

    Schedules the test of every active mailbox, marking this organization as the one that syncs
    appointments, contacts and tasks, without waiting.

    .OUTPUTS
    CrmServerSideSync.MailboxTestResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.MailboxTestResult')]
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

        [switch] $SyncWithThisOrgOnly,

        [switch] $Wait,

        [ValidateNotNull()]
        [object] $Timeout = (New-TimeSpan -Minutes 10),

        [Parameter(DontShow)]
        [ValidateNotNull()]
        [object] $PollInterval,

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object[]] $OtherEnvironment,

        [switch] $Force,

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
        Add-CrmSelectionInput -Collector $collector -Cmdlet $PSCmdlet -MailboxId $MailboxId -Name $Name -EmailAddress $EmailAddress -ServerProfile $ServerProfile
    }
    end {
        $selection = New-CrmMailboxSelection -Collector $collector -Cmdlet $PSCmdlet -Filter $Filter -All:$All
        if ($null -eq $selection) { return }
        if (@($OtherEnvironment | Where-Object { $null -ne $_ }).Count -gt 0) {
            $selection = Resolve-CrmOwnershipRefusal -Cmdlet $PSCmdlet -Connection $conn -Others @($OtherEnvironment | Where-Object { $null -ne $_ }) -Selection $selection -Force:$Force
        }
        $request = [ordered]@{ selection = $selection; sync_with_this_org_only = [bool]$SyncWithThisOrgOnly; wait = [bool]$Wait; timeout_secs = $timeoutSecs }
        if ($null -ne $pollMs) { $request['poll_interval_ms'] = $pollMs }
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        Invoke-CrmMailboxBulk -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxTestEnable' -Request $request -Step 'TestAndEnable' -Action 'Test & Enable' -Activity "Test & Enable mailboxes on $($conn.Url)" -ConfirmImpact Medium -PassThru
    }
}
