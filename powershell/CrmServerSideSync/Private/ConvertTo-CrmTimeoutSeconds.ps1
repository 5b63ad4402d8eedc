function ConvertTo-CrmTimeoutSeconds {
    <#
    .SYNOPSIS
    A -Timeout value as whole seconds: a TimeSpan, a number of seconds, or a string that is either
    (for example '00:10:00' or '600'). Throws ArgumentException for anything else or for <= 0.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param([Parameter(Mandatory)] [object] $Value)
    $span = $null
    $raw = $Value
    if ($raw -is [System.Management.Automation.PSObject]) { $raw = $raw.psobject.BaseObject }
    if ($raw -is [TimeSpan]) { $span = $raw }
    elseif ($raw -is [int] -or $raw -is [long] -or $raw -is [double] -or $raw -is [decimal] -or $raw -is [single]) { $span = [TimeSpan]::FromSeconds([double]$raw) }
    elseif ($raw -is [string]) {
        $seconds = 0.0
        $parsed = [TimeSpan]::Zero
        if ([double]::TryParse($raw, [System.Globalization.NumberStyles]::Float, [System.Globalization.CultureInfo]::InvariantCulture, [ref]$seconds)) { $span = [TimeSpan]::FromSeconds($seconds) }
        elseif ([TimeSpan]::TryParse($raw, [System.Globalization.CultureInfo]::InvariantCulture, [ref]$parsed)) { $span = $parsed }
    }
    if ($null -eq $span -or $span.TotalSeconds -lt 1) {
        throw (New-Object System.ArgumentException ("-Timeout '$Value' is not a positive TimeSpan or number of seconds (for example (New-TimeSpan -Minutes 10), 600 or '00:10:00')."))
    }
    [int][math]::Ceiling($span.TotalSeconds)
}
