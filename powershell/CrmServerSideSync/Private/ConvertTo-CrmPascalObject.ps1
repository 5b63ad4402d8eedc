# snake_case -> PascalCase names seen so far (a few dozen keys; saves a function call per property).
$script:PascalNameCache = @{}

function ConvertTo-CrmPascalObject {
    <#
    .SYNOPSIS
    The one generic converter from the library's JSON objects (snake_case keys) to PowerShell
    objects with PascalCase properties, optionally tagged with a PSTypeName. Nested objects and
    arrays of objects are converted too; the "version" field of a document is dropped.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)] [AllowNull()] [object] $InputObject,
        [string] $TypeName
    )
    process {
        if ($null -eq $InputObject) { return }
        $properties = [ordered]@{}
        if (-not [string]::IsNullOrEmpty($TypeName)) { $properties['PSTypeName'] = $TypeName }
        foreach ($property in $InputObject.PSObject.Properties) {
            if ($property.Name -eq 'version') { continue }
            $value = $property.Value
            if ($value -is [System.Management.Automation.PSCustomObject]) {
                $value = ConvertTo-CrmPascalObject -InputObject $value
            }
            elseif ($value -is [System.Array]) {
                $value = @(foreach ($element in $value) {
                        if ($element -is [System.Management.Automation.PSCustomObject]) { ConvertTo-CrmPascalObject -InputObject $element } else { $element }
                    })
            }
            $pascal = $script:PascalNameCache[$property.Name]
            if ($null -eq $pascal) {
                $pascal = ConvertTo-CrmPascalName -Name $property.Name
                $script:PascalNameCache[$property.Name] = $pascal
            }
            $properties[$pascal] = $value
        }
        [pscustomobject]$properties
    }
}
