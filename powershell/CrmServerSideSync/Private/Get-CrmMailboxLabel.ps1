function Get-CrmMailboxLabel {
    <# .SYNOPSIS "Name <address>" of an item event or result (the ShouldProcess target). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [object] $Item)
    $name = $null; $address = $null; $id = $null
    foreach ($p in @('name', 'Name')) { if ($Item.PSObject.Properties[$p]) { $name = [string]$Item.$p; break } }
    foreach ($p in @('email_address', 'EmailAddress')) { if ($Item.PSObject.Properties[$p]) { $address = [string]$Item.$p; break } }
    foreach ($p in @('key', 'MailboxId')) { if ($Item.PSObject.Properties[$p]) { $id = [string]$Item.$p; break } }
    $label = $name
    if ([string]::IsNullOrEmpty($label)) { $label = $id }
    if (-not [string]::IsNullOrEmpty($address)) { $label = "$label <$address>" }
    $label
}
