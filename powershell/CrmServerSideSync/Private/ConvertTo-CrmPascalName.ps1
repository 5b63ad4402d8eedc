function ConvertTo-CrmPascalName {
    <#
    .SYNOPSIS
    snake_case to PascalCase: mailbox_id -> MailboxId, approved_by_o365_admin -> ApprovedByO365Admin.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string] $Name)

    $parts = $Name.Split([char[]]@('_'), [System.StringSplitOptions]::RemoveEmptyEntries)
    $builder = New-Object System.Text.StringBuilder
    foreach ($part in $parts) {
        [void]$builder.Append($part.Substring(0, 1).ToUpperInvariant())
        if ($part.Length -gt 1) { [void]$builder.Append($part.Substring(1)) }
    }
    $builder.ToString()
}
