function Get-CrmOrganization {
    <#
    .SYNOPSIS
    Gets the organization and caller identity of a connection (WhoAmI).

    .DESCRIPTION
    Calls WhoAmI through the connection and returns the organization id and name, the calling
    user and business unit, and the organization's default email server profile id.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Get-CrmOrganization

    Shows the organization of the default connection.

    .EXAMPLE
    (Get-CrmOrganization -Connection $c).DefaultEmailServerProfileId

    Reads the organization's default email server profile id through a specific connection.

    .OUTPUTS
    CrmServerSideSync.Organization
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.Organization')]
    param(
        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    try {
        $json = $conn.Client.WhoAmI()
    }
    catch {
        $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $conn.Url))
    }
    $json | ConvertFrom-Json | ConvertTo-CrmPascalObject -TypeName 'CrmServerSideSync.Organization'
}
