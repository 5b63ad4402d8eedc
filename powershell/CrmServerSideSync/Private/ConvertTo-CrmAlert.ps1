function ConvertTo-CrmAlert {
    <#
    .SYNOPSIS
    An alert (tracelog) document from the library as a CrmServerSideSync.Alert object
    (CreatedOn as a local DateTime on every edition).
    #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $InputObject)
    process {
        if ($null -eq $InputObject) { return }
        $alert = ConvertTo-CrmPascalObject -InputObject $InputObject -TypeName 'CrmServerSideSync.Alert'
        if ($alert.PSObject.Properties['CreatedOn']) { $alert.CreatedOn = ConvertTo-CrmDateTime -Value $alert.CreatedOn }
        $alert
    }
}
