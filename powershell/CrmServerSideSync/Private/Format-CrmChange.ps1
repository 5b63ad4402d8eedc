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
            '{0}: {1} -> {2}' -f $c.field, (Format-CrmValue $c.from), (Format-CrmValue $c.to)
        })
    $parts -join '; '
}
