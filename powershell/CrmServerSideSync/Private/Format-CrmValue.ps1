function Format-CrmValue {
    <# .SYNOPSIS A value from a change ("from"/"to") as display text: null -> (none). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return '(none)' }
    if ($Value -is [string] -and $Value.Length -eq 0) { return '(none)' }
    [string]$Value
}
