function ConvertTo-CrmRequestJson {
    <#
    .SYNOPSIS
    Serializes a request document (hashtable) for the native library: adds "version": 1, drops
    empty values, compact JSON. Strings are escaped by ConvertTo-Json (quotes are safe).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Collections.IDictionary] $Document)

    $clean = [ordered]@{ version = 1 }
    foreach ($key in $Document.Keys) {
        $value = $Document[$key]
        if ($null -eq $value) { continue }
        if ($value -is [string] -and $value.Length -eq 0) { continue }
        $clean[$key] = $value
    }
    ConvertTo-Json -InputObject $clean -Compress -Depth 6
}
