function Disable-CrmServerSideSync {
    <#
    .SYNOPSIS
    Turns server-side synchronization off in an environment: the organization's default delivery
    methods and every selected mailbox's become None, and scheduled tests are cancelled.

    .DESCRIPTION
    For sandboxes and copies of production. One Exchange mailbox synchronizes with only one
    Dataverse environment: a copy whose mailboxes stay on server-side synchronization takes them
    away from production the next time someone runs Test & Enable there. Microsoft recommends
    setting synchronization to None in non-production environments and after every "Everything"
    copy.

    First the organization's defaults (incoming, outgoing, appointments/contacts/tasks: None, so
    new mailboxes start without synchronization), then the selected active mailboxes in one bulk
    operation: incoming, outgoing and appointments/contacts/tasks None, and
    "testemailconfigurationscheduled" cleared. Only what differs is written.

    Selecting nothing is refused: use -All for every active mailbox. The impact is High, so
    PowerShell asks before going on unless -Confirm:$false; the question counts the mailboxes that
    will change. -WhatIf writes nothing and lists each change. A mailbox that cannot be changed is
    a non-terminating error whose TargetObject is its result.

    .PARAMETER MailboxId
    Ids of the mailboxes; bound by property name from piped mailbox objects.

    .PARAMETER Name
    Exact mailbox names.

    .PARAMETER EmailAddress
    Exact email addresses.

    .PARAMETER Filter
    A raw OData $filter on mailboxes, added with "and".

    .PARAMETER All
    Every active mailbox of the environment.

    .PARAMETER JournalPath
    Appends one JSON line per row written (with the values before) to this file; Undo-CrmChange
    writes them back.

    .PARAMETER PassThru
    Write one result object per mailbox.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso-sandbox.crm.dynamics.com -ClientId $appId -ClientSecret $secret -TenantId contoso.onmicrosoft.com
    Disable-CrmServerSideSync -All -JournalPath ./sandbox-disable.jsonl -Confirm:$false

    After copying production to a sandbox: no mailbox of the sandbox synchronizes any more, and the
    journal records every change.

    .EXAMPLE
    Disable-CrmServerSideSync -All -WhatIf

    Lists what would change, writing nothing.

    .OUTPUTS
    CrmServerSideSync.MailboxResult (with -PassThru)
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('CrmServerSideSync.MailboxResult')]
    param(
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

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [switch] $PassThru,

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
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        Invoke-CrmMailboxBulk -Cmdlet $PSCmdlet -Connection $conn -Method 'StartSyncDisable' -Request $request -Step 'MailboxSettings' -Action 'Turn server-side synchronization off for' -Activity "Turning server-side synchronization off on $($conn.Url)" -ConfirmImpact High -PassThru:$PassThru
    }
}
