function Deny-CrmMailbox {
    <#
    .SYNOPSIS
    Rejects the email addresses of mailboxes (users and queues) for server-side synchronization.

    .DESCRIPTION
    Writes the approval ("Approve Email" / "Reject Email") through each mailbox's owning user or
    queue, as Microsoft documents, then reads the mailboxes back: a mailbox whose email status did
    not become Rejected is reported as failed with the reason, never as success. Mailboxes
    already in that state are left alone ("Unchanged").

    The selected active mailboxes are handled in ONE bulk operation: mailboxes piped in (by
    MailboxId) are collected and processed together at the end of the pipeline, with progress.
    Selecting nothing is refused: use -All for every active mailbox.

    Approving email for Exchange Online requires a caller with the Microsoft 365 Global
    Administrator or Exchange Administrator role, or the Delegated Mailbox Approver role in
    Dynamics 365. When the platform refuses, each mailbox is a non-terminating error that carries
    the platform's message verbatim and the remedy naming those roles (TargetObject: the mailbox
    result); -ErrorAction Stop stops at the first. -WhatIf lists the mailboxes that would change;
    -Confirm asks once for the batch. Result objects are written with -PassThru.

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
    Only the mailboxes of this email server profile (name or id).

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER All
    Every active mailbox (required when nothing else selects mailboxes).

    .PARAMETER PassThru
    Write one result object per mailbox.

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Deny-CrmMailbox 'avery.adams@contoso.example'

    Selects the mailbox by name, email address or id.

    .EXAMPLE
    Get-CrmMailbox -ServerProfile 'Microsoft Exchange Online' | Where-Object ApprovalStatus -ne 'Approved' | Deny-CrmMailbox -PassThru

    Rejects the email of the Exchange Online profile's mailboxes that are not approved yet, in one bulk operation.

    .EXAMPLE
    Deny-CrmMailbox -EmailAddress 'support1@contoso.com', 'support2@contoso.com' -WhatIf

    Shows which of the two mailboxes would change, without writing anything.

    .EXAMPLE
    Deny-CrmMailbox -All -ErrorAction Stop

    Rejects every active mailbox and stops at the first failure.

    .OUTPUTS
    CrmServerSideSync.MailboxResult (with -PassThru)
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
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
        [string] $ServerProfile,

        [ValidateNotNullOrEmpty()]
        [string] $Filter,

        [switch] $All,

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
        $request = [ordered]@{ selection = $selection; decision = 'Reject' }
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        Invoke-CrmMailboxBulk -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxApproval' -Request $request -Step 'RejectEmail' -Action 'Reject email of' -Activity "Rejecting email on $($conn.Url)" -ConfirmImpact High -PassThru:$PassThru
    }
}
