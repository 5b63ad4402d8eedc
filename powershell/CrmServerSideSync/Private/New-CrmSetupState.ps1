function New-CrmSetupState {
    <#
    .SYNOPSIS
    What one environment's setup run collects from its events (rows, checks, organization changes,
    alerts, addresses refused for another environment's ownership) until Complete-CrmSetupReport builds its report.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [bool] $WhatIf,
        [string] $Environment
    )
    @{
        Connection  = $Connection
        WhatIf      = $WhatIf
        Environment = $Environment
        Rows        = [CrmServerSideSync.SetupMailbox]::NewIndex()
        Checks      = New-Object 'System.Collections.Generic.List[object]'
        OrgChanges  = New-Object 'System.Collections.Generic.List[object]'
        Alerts      = New-Object 'System.Collections.Generic.List[object]'
        # The addresses left out because another environment of the run owns them.
        Refused     = New-Object 'System.Collections.Generic.List[string]'
    }
}
