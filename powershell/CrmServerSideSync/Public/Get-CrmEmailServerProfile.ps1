function Get-CrmEmailServerProfile {
    <#
    .SYNOPSIS
    Gets email server profiles (for example "Microsoft Exchange Online").

    .DESCRIPTION
    Reads the organization's email server profiles, optionally only the one with an exact name,
    and returns objects with their id, server type, state, whether they target Exchange Online and
    whether they are the organization's default profile.

    .PARAMETER Name
    Exact profile name to look for.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Get-CrmEmailServerProfile

    Lists every email server profile.

    .EXAMPLE
    Get-CrmEmailServerProfile -Name 'Microsoft Exchange Online' | Where-Object IsExchangeOnline

    Finds the Exchange Online profile.

    .EXAMPLE
    Get-CrmEmailServerProfile -Name 'Microsoft Exchange Online' | Get-CrmMailbox

    Lists the mailboxes that use the Exchange Online profile.

    .OUTPUTS
    CrmServerSideSync.EmailServerProfile
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.EmailServerProfile')]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    $query = ConvertTo-CrmRequestJson -Document ([ordered]@{ name = $Name })
    Write-Verbose "Reading email server profiles from $($conn.Url): $query"
    try {
        $json = $conn.Client.GetEmailServerProfiles($query)
    }
    catch {
        $target = $Name
        if ([string]::IsNullOrEmpty($target)) { $target = $conn.Url }
        $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $target))
    }
    $result = $json | ConvertFrom-Json
    foreach ($item in @($result.profiles)) {
        if ($null -ne $item) {
            ConvertTo-CrmPascalObject -InputObject $item -TypeName 'CrmServerSideSync.EmailServerProfile'
        }
    }
}
