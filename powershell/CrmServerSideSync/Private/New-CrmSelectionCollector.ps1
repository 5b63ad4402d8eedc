function New-CrmSelectionCollector {
    <#
    .SYNOPSIS
    A collector for the mailboxes a bulk cmdlet works on. Call in begin{} with $PSBoundParameters:
    it remembers which selection parameters were given directly (they are applied once, in end{}).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory)] [System.Collections.IDictionary] $BoundParameters)
    @{
        Direct   = @{} + $BoundParameters
        Ids      = New-Object 'System.Collections.Generic.List[string]'
        Names    = New-Object 'System.Collections.Generic.List[string]'
        Emails   = New-Object 'System.Collections.Generic.List[string]'
        Profiles = New-Object 'System.Collections.Generic.List[string]'
        # -Mailbox: names, addresses or ids as typed; the library tells them apart.
        Identities = New-Object 'System.Collections.Generic.List[string]'
        Piped    = 0
    }
}
