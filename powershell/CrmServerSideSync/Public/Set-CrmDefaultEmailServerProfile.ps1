function Set-CrmDefaultEmailServerProfile {
    <#
    .SYNOPSIS
    Makes an email server profile (by default "Microsoft Exchange Online") the organization's default, activating it if needed.

    .DESCRIPTION
    Sets the organization's default email server profile, the one new mailboxes get and that
    Set-CrmMailbox -ApplyDefaults applies. An inactive profile is activated first. Nothing is
    written when the profile is already the active default. Accepts a profile piped from
    Get-CrmEmailServerProfile (by its ProfileId). -WhatIf shows the changes, -Confirm asks with
    them listed; -PassThru returns the organization's defaults afterwards.

    .PARAMETER ServerProfile
    The profile name or id (default 'Microsoft Exchange Online'); bound from the ProfileId of a piped profile.

    .PARAMETER PassThru
    Return the defaults (CrmServerSideSync.MailboxDefaults) after the change.

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Set-CrmDefaultEmailServerProfile -PassThru

    Makes "Microsoft Exchange Online" the default profile and shows the defaults.

    .EXAMPLE
    Get-CrmEmailServerProfile -Name 'Exchange Hybrid (retired)' | Set-CrmDefaultEmailServerProfile -WhatIf

    Shows that the profile would be activated and made the default, without writing anything.

    .OUTPUTS
    CrmServerSideSync.MailboxDefaults (with -PassThru)
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.MailboxDefaults')]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('ProfileId')]
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile = 'Microsoft Exchange Online',

        [switch] $PassThru,

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    begin {
        $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    }
    process {
        $request = [ordered]@{ server_profile = $ServerProfile }
        $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
        if ($null -ne $journal) { $request['journal_path'] = $journal }
        $defaults = Invoke-CrmDefaultsChange -Cmdlet $PSCmdlet -Connection $conn -Request $request
        if ($PassThru) { ConvertTo-CrmMailboxDefaults -Defaults $defaults }
    }
}
