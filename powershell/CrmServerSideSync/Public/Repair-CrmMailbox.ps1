function Repair-CrmMailbox {
    <#
    .SYNOPSIS
    Repairs the server-side synchronization of mailboxes where Dataverse lets it be repaired,
    and tests them again.

    .DESCRIPTION
    Works from the health of the selected mailboxes (as Get-CrmMailboxHealth reports it) and,
    in ONE bulk operation, applies each repairable diagnosis's fix: the organization's default
    email server profile and delivery methods, activation of an inactive profile, approval of the
    email address (through the owning user or queue, as Approve-CrmMailbox), the mailbox's owner
    set back to its user, the user's access mode set to Read-Write; then it runs Test & Enable
    for every mailbox whose cause was fixed (and for mailboxes never tested). With -Wait it waits
    for the tests and writes each repaired mailbox's new health.

    Healthy mailboxes are never touched, and running the command again changes nothing. A
    mailbox crmsync cannot repair (the cause is in Microsoft Entra or Exchange, or is an
    administrator's decision) is a non-terminating error with the remedy; its TargetObject is
    the mailbox's health row. Mailboxes piped in (by MailboxId, for example from
    Get-CrmMailboxHealth) are collected and repaired together at the end. Needs write access to
    mailboxes: a reader gets a clear error and nothing is changed.

    .PARAMETER Mailbox
    The mailboxes by identity, as with Exchange's -Identity: each value is a mailbox name, an email
    address or a mailbox id (a GUID), told apart by its shape. Positional.

    .PARAMETER MailboxId
    Ids of the mailboxes; bound by property name from piped objects (health rows, mailboxes).

    .PARAMETER Name
    Exact mailbox names.

    .PARAMETER EmailAddress
    Exact email addresses.

    .PARAMETER ServerProfile
    Every mailbox of this email server profile (name or id).

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER All
    Every mailbox (required when nothing else selects mailboxes).

    .PARAMETER Wait
    Wait for the new tests and write each repaired mailbox's new health.

    .PARAMETER Timeout
    How long -Wait waits: a TimeSpan or a number of seconds (default 10 minutes).

    .PARAMETER ResetProcessEmailReceivedAfter
    Also move each repaired mailbox's "process email received after" date back to its last
    successful synchronization, so email that arrived while it failed is processed. Only where
    the current date is later; never without this switch.

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back (the new tests themselves cannot be undone, and the journal says so).

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Repair-CrmMailbox 'Avery Adams' -WhatIf

    Selects the mailbox by name, email address or id.

    .EXAMPLE
    Get-CrmMailboxHealth | Where-Object Health -ne 'Healthy' | Repair-CrmMailbox -Wait

    Repairs exactly the mailboxes that are not healthy, in one bulk operation, and shows their new health.

    .EXAMPLE
    Repair-CrmMailbox -All -WhatIf

    Lists, per mailbox, the fixes that would be applied; nothing is written.

    .EXAMPLE
    Repair-CrmMailbox -All -Wait -ErrorVariable notRepaired -ErrorAction SilentlyContinue
    $notRepaired | ForEach-Object { $_.TargetObject } | Export-Csv ./not-repaired.csv -NoTypeInformation

    Repairs what can be repaired and keeps the health rows of the others, with their remedies, for the administrators.

    .OUTPUTS
    CrmServerSideSync.MailboxRepairResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.MailboxRepairResult')]
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

        [switch] $Wait,

        [ValidateNotNull()]
        [object] $Timeout = (New-TimeSpan -Minutes 10),

        [Parameter(DontShow)]
        [ValidateNotNull()]
        [object] $PollInterval,

        [switch] $ResetProcessEmailReceivedAfter,

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

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
        $whatIf = [bool]$WhatIfPreference
        $target = Format-CrmSelection -Selection $selection
        if (-not $whatIf -and -not $PSCmdlet.ShouldProcess($target, 'Repair mailboxes and test them again')) { return }
        $request = [ordered]@{
            selection = $selection; what_if = $whatIf; wait = [bool]$Wait; timeout_secs = $timeoutSecs
            reset_process_email_received_after = [bool]$ResetProcessEmailReceivedAfter
        }
        if ($null -ne $pollMs) { $request['poll_interval_ms'] = $pollMs }
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        $result = $null
        Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxRepair' -Request (ConvertTo-CrmRequestJson -Document $request) -Activity "Repair mailboxes on $($conn.Url)" -Result ([ref]$result) -TargetObject $target | ForEach-Object {
            # Inside the switch below $_ is the outcome: the event is $evt.
            $evt = $_
            if ($evt.type -eq 'item') {
                Write-Verbose "$($evt.step) $($evt.name): $($evt.outcome)"
                return
            }
            if ($evt.type -ne 'repair') { return }
            $before = ConvertTo-CrmMailboxHealth -Row $evt.before
            $after = $null
            if ($null -ne $evt.health_after) { $after = ConvertTo-CrmMailboxHealth -Row $evt.health_after }
            $fixes = @(foreach ($f in @($evt.fixes)) {
                    if ($null -eq $f) { continue }
                    $changes = @(foreach ($c in @($f.changes)) { if ($null -ne $c) { "$($c.field): $($c.from) -> $($c.to)" } }) -join '; '
                    "$($f.repair) ($changes)"
                }) -join '; '
            $label = "$($evt.name) <$($before.EmailAddress)>"
            switch ([string]$evt.outcome) {
                'Skipped' { Write-Verbose "${label}: a test is running; nothing to repair now." }
                'NotRepairable' {
                    $message = "${label} is $($evt.health) and cannot be repaired by crmsync: $($evt.reason) Remedy: $($evt.remedy)"
                    $record = New-Object System.Management.Automation.ErrorRecord ((New-Object System.InvalidOperationException ($message)), 'CrmSync.NotRepairable', [System.Management.Automation.ErrorCategory]::InvalidOperation, $before)
                    $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($message)
                    $record.ErrorDetails.RecommendedAction = [string]$evt.remedy
                    $PSCmdlet.WriteError($record)
                }
                default {
                    if ($evt.outcome -eq 'Planned') { [void]$PSCmdlet.ShouldProcess($label, "Repair: $fixes, then Test & Enable") }
                    $repair = [pscustomobject]@{
                        PSTypeName = 'CrmServerSideSync.MailboxRepairResult'
                        MailboxId  = [string]$evt.mailbox_id
                        Name       = $evt.name
                        Outcome    = [string]$evt.outcome
                        Before     = [string]$evt.health
                        Health     = $(if ($null -ne $after) { $after.Health } elseif ($evt.outcome -eq 'Planned') { [string]$evt.health } else { 'TestScheduled' })
                        Fixes      = $fixes
                        Reason     = $(if ($null -ne $after) { $after.Reason } else { $evt.reason })
                        HealthRow  = $(if ($null -ne $after) { $after } else { $before })
                    }
                    if ($evt.outcome -eq 'Failed') {
                        $message = "${label} was not repaired: $($evt.error.message) Remedy: $($evt.error.remedy)"
                        $record = New-Object System.Management.Automation.ErrorRecord ((New-Object System.InvalidOperationException ($message)), 'CrmSync.RepairFailed', [System.Management.Automation.ErrorCategory]::InvalidResult, $repair.HealthRow)
                        $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($message)
                        $record.ErrorDetails.RecommendedAction = [string]$evt.error.remedy
                        $PSCmdlet.WriteError($record)
                    }
                    else { $repair }
                }
            }
        }
        if ($null -ne $result) {
            Write-Verbose "Repair: $($result.repaired) repaired, $($result.failed) failed, $($result.not_repairable) not repairable, $($result.healthy) healthy, $($result.planned) planned; $($result.writes) rows written."
        }
    }
}
