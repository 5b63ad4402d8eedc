function ConvertTo-CrmMailboxDefaults {
    <# .SYNOPSIS The organization's defaults document as a CrmServerSideSync.MailboxDefaults object. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Defaults)
    ConvertTo-CrmPascalObject -InputObject $Defaults -TypeName 'CrmServerSideSync.MailboxDefaults'
}
