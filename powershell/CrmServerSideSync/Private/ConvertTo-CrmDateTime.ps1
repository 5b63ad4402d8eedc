function ConvertTo-CrmDateTime {
    <#
    .SYNOPSIS
    An ISO 8601 time from the library as a local DateTime, the same on every edition (PowerShell 7's
    ConvertFrom-Json already makes DateTimes, Windows PowerShell 5.1 leaves strings). Null stays null.
    #>
    [CmdletBinding()]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [DateTime]) {
        if ($Value.Kind -eq [DateTimeKind]::Utc) { return $Value.ToLocalTime() }
        return $Value
    }
    if ($Value -is [DateTimeOffset]) { return $Value.LocalDateTime }
    $parsed = [DateTimeOffset]::MinValue
    if ([DateTimeOffset]::TryParse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::AssumeUniversal, [ref]$parsed)) {
        return $parsed.LocalDateTime
    }
    $Value
}
