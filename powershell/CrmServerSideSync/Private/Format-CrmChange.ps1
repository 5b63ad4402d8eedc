function Format-CrmChange {
    <#
    .SYNOPSIS
    Changes as one line: "IncomingEmail: None -> ServerSideSync; OutgoingEmail: Outlook -> ServerSideSync".
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object[]] $Change)
    $parts = @(foreach ($c in @($Change)) {
            if ($null -eq $c) { continue }
            [CrmServerSideSync.SetupItem]::FormatChange([string]$c.field, [string]$c.from, [string]$c.to)
        })
    $parts -join '; '
}
