function ConvertTo-CrmODataString {
    <# .SYNOPSIS An OData string literal: single quotes doubled, the whole value quoted. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Value)
    "'" + $Value.Replace("'", "''") + "'"
}
