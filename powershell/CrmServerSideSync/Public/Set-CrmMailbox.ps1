function Set-CrmMailbox {
    <#
    .SYNOPSIS
    Configures mailboxes for server-side synchronization: applies the organization's default email
    settings, or sets an email server profile and delivery methods explicitly.

    .DESCRIPTION
    Works on the selected active mailboxes in ONE bulk operation: mailboxes piped in (by their
    MailboxId, as from Get-CrmMailbox) are collected and configured together at the end of the
    pipeline, with progress. Only the columns that differ are written; mailboxes already as
    requested are left alone ("Unchanged").

    -ApplyDefaults is the "Apply Default Email Settings" command: the organization's default
    email server profile and delivery methods (see Get-CrmMailboxDefaults). Otherwise give any of
    -ServerProfile, -IncomingEmail, -OutgoingEmail, -AppointmentsContactsTasks.
    -SyncWithThisOrgOnly sets "Sync items with Exchange from this org only" with either.

    Selecting nothing is refused (a safety net): use -All to configure every active mailbox.
    A mailbox that cannot be configured (for example Outlook for a queue) is a non-terminating
    error whose TargetObject is its result; the others go on. -ErrorAction Stop stops at the
    first failure and cancels the rest. With -WhatIf nothing is written and each mailbox that
    would change is listed with its changes. With -Confirm the question is asked once for the
    batch. Result objects (CrmServerSideSync.MailboxResult) are written with -PassThru.

    .PARAMETER Mailbox
    The mailboxes by identity, as with Exchange's -Identity: each value is a mailbox name, an email
    address or a mailbox id (a GUID), told apart by its shape. Positional.

    .PARAMETER MailboxId
    Ids of the mailboxes; bound by property name from piped mailbox objects.

    .PARAMETER Name
    Exact mailbox names (several are combined with "or"); piped objects without a MailboxId bind by Name.

    .PARAMETER EmailAddress
    Exact email addresses (several are combined with "or").

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and" (for example "contains(name,'Sales')").

    .PARAMETER All
    Configure every active mailbox (required when nothing else selects mailboxes).

    .PARAMETER ApplyDefaults
    Apply the organization's default email server profile and delivery methods.

    .PARAMETER ServerProfile
    Email server profile to set, by name or id.

    .PARAMETER IncomingEmail
    Incoming email delivery method.

    .PARAMETER OutgoingEmail
    Outgoing email delivery method.

    .PARAMETER AppointmentsContactsTasks
    Appointments, contacts and tasks delivery method.

    .PARAMETER SyncWithThisOrgOnly
    Sets (or with -SyncWithThisOrgOnly:$false clears) "Sync items with Exchange from this org only".

    .PARAMETER PassThru
    Write one result object per mailbox.

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Set-CrmMailbox 'Avery Adams', 'support1@contoso.example' -ApplyDefaults

    Selects the mailbox by name, email address or id.

    .EXAMPLE
    Get-CrmMailbox -ServerProfile 'Microsoft Exchange Online' | Set-CrmMailbox -ApplyDefaults -PassThru

    Applies the organization's default email settings to the mailboxes of the Exchange Online
    profile, in one bulk operation, and shows what changed for each.

    .EXAMPLE
    Set-CrmMailbox -Name 'Support Queue 1' -ServerProfile 'Microsoft Exchange Online' -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -WhatIf

    Shows what would change for one queue's mailbox without writing anything.

    .EXAMPLE
    Set-CrmMailbox -All -ApplyDefaults -SyncWithThisOrgOnly -ErrorAction Stop

    Configures every active mailbox with the defaults and stops at the first failure.

    .OUTPUTS
    CrmServerSideSync.MailboxResult (with -PassThru)
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Explicit')]
    [OutputType('CrmServerSideSync.MailboxResult')]
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

        [ValidateNotNullOrEmpty()]
        [string] $Filter,

        [switch] $All,

        [Parameter(Mandatory, ParameterSetName = 'ApplyDefaults')]
        [switch] $ApplyDefaults,

        [Parameter(ParameterSetName = 'Explicit')]
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile,

        [Parameter(ParameterSetName = 'Explicit')]
        [ValidateSet('ServerSideSync', 'Outlook', 'None', 'ForwardMailbox')]
        [string] $IncomingEmail,

        [Parameter(ParameterSetName = 'Explicit')]
        [ValidateSet('ServerSideSync', 'Outlook', 'None')]
        [string] $OutgoingEmail,

        [Parameter(ParameterSetName = 'Explicit')]
        [ValidateSet('ServerSideSync', 'Outlook', 'None')]
        [string] $AppointmentsContactsTasks,

        [switch] $SyncWithThisOrgOnly,

        [switch] $PassThru,

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    begin {
        $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
        $collector = New-CrmSelectionCollector -BoundParameters $PSBoundParameters
    }
    process {
        Add-CrmSelectionInput -Collector $collector -Cmdlet $PSCmdlet -MailboxId $MailboxId -Name $Name -EmailAddress $EmailAddress
    }
    end {
        $selection = New-CrmMailboxSelection -Collector $collector -Cmdlet $PSCmdlet -Filter $Filter -All:$All
        if ($null -eq $selection) { return }
        $request = [ordered]@{ selection = $selection }
        if ($ApplyDefaults) { $request['apply_defaults'] = $true }
        else {
            $request['server_profile'] = $ServerProfile
            $request['incoming_email'] = $IncomingEmail
            $request['outgoing_email'] = $OutgoingEmail
            $request['appointments_contacts_tasks'] = $AppointmentsContactsTasks
        }
        if ($PSBoundParameters.ContainsKey('SyncWithThisOrgOnly')) { $request['sync_with_this_org_only'] = [bool]$SyncWithThisOrgOnly }
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        Invoke-CrmMailboxBulk -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxConfigure' -Request $request -Step 'MailboxSettings' -Action 'Configure' -Activity "Configuring mailboxes on $($conn.Url)" -ConfirmImpact Medium -PassThru:$PassThru
    }
}
