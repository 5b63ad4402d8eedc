function Add-CrmAddressExclusion {
    <#
    .SYNOPSIS
    A copy of a selection document that leaves out the given email addresses (an OData
    "not (emailaddress eq … or …)" added with "and" to its filter).
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Selection,
        [string[]] $EmailAddress = @()
    )
    $copy = [ordered]@{}
    foreach ($key in $Selection.Keys) { $copy[$key] = $Selection[$key] }
    $addresses = @($EmailAddress | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })
    if ($addresses.Count -eq 0) { return $copy }
    $exclusion = 'not (' + (@($addresses | ForEach-Object { 'emailaddress eq ' + (ConvertTo-CrmODataString $_) }) -join ' or ') + ')'
    if ($copy.Contains('filter') -and -not [string]::IsNullOrWhiteSpace($copy['filter'])) { $copy['filter'] = "($($copy['filter'])) and $exclusion" }
    else { $copy['filter'] = $exclusion }
    $copy
}
