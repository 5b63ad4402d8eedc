function Get-CrmMailboxDefaults {
    <#
    .SYNOPSIS
    Gets the organization's default email settings (System Settings > Email > Email Configuration).

    .DESCRIPTION
    Returns the default email server profile, the default incoming, outgoing and
    appointments/contacts/tasks delivery methods given to new mailboxes (and applied by
    Set-CrmMailbox -ApplyDefaults), how email is processed (ServerSideSync or EmailRouter), and
    whether user and queue email must be approved.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Get-CrmMailboxDefaults

    Shows the organization's default email settings.

    .EXAMPLE
    (Get-CrmMailboxDefaults).ServerProfileName -eq 'Microsoft Exchange Online'

    Checks that Exchange Online is the default email server profile.

    .OUTPUTS
    CrmServerSideSync.MailboxDefaults
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.MailboxDefaults')]
    param(
        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    $defaults = Invoke-CrmNativeCall -Cmdlet $PSCmdlet -Connection $conn -Method 'GetMailboxDefaults'
    ConvertTo-CrmMailboxDefaults -Defaults $defaults
}
