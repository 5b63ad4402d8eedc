function Set-CrmMailboxDefaults {
    <#
    .SYNOPSIS
    Sets the organization's default email settings: server profile, delivery methods and how email is processed.

    .DESCRIPTION
    Changes only what differs from the current settings ("Configure default email processing and
    synchronization"). Setting -ServerProfile also activates the profile if it is inactive. The
    delivery methods are written into the organization's default email settings, keeping its
    other settings.

    With -WhatIf nothing is written: each change is shown as a "What if:" line, for example
    "IncomingEmail: None -> ServerSideSync". With -Confirm the question lists every change. When
    nothing differs nothing is written. -PassThru returns the defaults afterwards.

    .PARAMETER ServerProfile
    The default email server profile, by name or id.

    .PARAMETER IncomingEmail
    Default incoming email delivery method for new mailboxes.

    .PARAMETER OutgoingEmail
    Default outgoing email delivery method for new mailboxes.

    .PARAMETER AppointmentsContactsTasks
    Default appointments, contacts and tasks delivery method for new mailboxes.

    .PARAMETER ProcessEmailUsing
    Process email using server-side synchronization or the (retired) Email Router.

    .PARAMETER PassThru
    Return the defaults (CrmServerSideSync.MailboxDefaults) after the change.

    .PARAMETER JournalPath
    Appends one JSON line per row written (table, row, each column's value before and after,
    environment, outcome) to this file as the writes complete; Undo-CrmChange writes the before
    values back.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Set-CrmMailboxDefaults -ServerProfile 'Microsoft Exchange Online' -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -ProcessEmailUsing ServerSideSync -PassThru

    Makes Exchange Online with server-side synchronization the default for new mailboxes.

    .EXAMPLE
    Set-CrmMailboxDefaults -IncomingEmail ServerSideSync -WhatIf

    Shows the change without writing it ("What if: ... IncomingEmail: None -> ServerSideSync").

    .OUTPUTS
    CrmServerSideSync.MailboxDefaults (with -PassThru)
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('CrmServerSideSync.MailboxDefaults')]
    param(
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile,

        [ValidateSet('ServerSideSync', 'Outlook', 'None', 'ForwardMailbox')]
        [string] $IncomingEmail,

        [ValidateSet('ServerSideSync', 'Outlook', 'None')]
        [string] $OutgoingEmail,

        [ValidateSet('ServerSideSync', 'Outlook', 'None')]
        [string] $AppointmentsContactsTasks,

        [ValidateSet('ServerSideSync', 'EmailRouter')]
        [string] $ProcessEmailUsing,

        [switch] $PassThru,

        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    $request = [ordered]@{
        server_profile              = $ServerProfile
        incoming_email              = $IncomingEmail
        outgoing_email              = $OutgoingEmail
        appointments_contacts_tasks = $AppointmentsContactsTasks
        process_email_using         = $ProcessEmailUsing
    }
    $nothing = $true
    foreach ($value in $request.Values) { if (-not [string]::IsNullOrEmpty($value)) { $nothing = $false } }
    if ($nothing) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ArgumentException ('Nothing to set: give -ServerProfile, -IncomingEmail, -OutgoingEmail, -AppointmentsContactsTasks or -ProcessEmailUsing.')),
            'CrmSync.NothingToSet', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $journal = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
    if ($null -ne $journal) { $request['journal_path'] = $journal }
    $defaults = Invoke-CrmDefaultsChange -Cmdlet $PSCmdlet -Connection $conn -Request $request
    if ($PassThru) { ConvertTo-CrmMailboxDefaults -Defaults $defaults }
}
