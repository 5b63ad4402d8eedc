function Get-CrmEnvironment {
    <#
    .SYNOPSIS
    Lists the Dataverse environments the signed-in user can reach (Global Discovery Service).

    .DESCRIPTION
    Asks the Dataverse Global Discovery Service (api/discovery/v2.0/Instances) which environments
    the user of the connection can reach, signing in the same way as the connection but for the
    discovery service. Returns one object per environment with its URL (to pass to
    Connect-CrmOnline -Url), Web API host, unique and friendly names, state (Enabled or Disabled),
    version, region, organization type (the number the service gives, Microsoft's OrganizationType)
    and the environment type it stands for (EnvironmentType: Production, Sandbox, Developer, Trial
    or Default; empty for a type that is none of them), organization, environment and tenant ids.
    Piped to Connect-CrmOnline, each environment connects with its type, so the setup's
    non-production guard applies without -Environment.

    Microsoft documents that the discovery service answers user (delegated) sign-ins, such as
    Connect-CrmOnline -DeviceCode or an access token of a user; an application user is refused by
    the service and the error says so.

    .PARAMETER DiscoveryUrl
    The discovery service to ask. By default the one of the connection's cloud:
    https://globaldisco.crm.dynamics.com (public), https://globaldisco.crm9.dynamics.com (GCC),
    https://globaldisco.crm.microsoftdynamics.us (GCC High), https://globaldisco.crm.appsplatform.us
    (DoD) or https://globaldisco.crm.dynamics.cn (China).

    .PARAMETER Connection
    The connection whose sign-in is used. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -DeviceCode -TenantId contoso.onmicrosoft.com
    Get-CrmEnvironment

    Lists every environment you can reach in your tenant's cloud.

    .EXAMPLE
    $token = ConvertTo-SecureString (Get-AzAccessToken -ResourceUrl https://contoso.crm.dynamics.com).Token -AsPlainText -Force
    $urls = (Get-CrmEnvironment | Where-Object State -eq 'Enabled').Url
    $all = Connect-CrmOnline -Url $urls -AccessToken $token

    Connects to every enabled environment (the token must be valid for each of them).

    .EXAMPLE
    Get-CrmEnvironment | Where-Object State -eq 'Enabled' | Connect-CrmOnline -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -CertificatePath ./crmsync-app.pfx

    Lists the environments as the signed-in user, then connects the application to each of them
    (one connection per environment, each knowing its environment type).

    .EXAMPLE
    Get-CrmEnvironment -DiscoveryUrl https://globaldisco.crm9.dynamics.com | Format-List

    Asks the GCC discovery service and shows every property.

    .OUTPUTS
    CrmServerSideSync.Environment
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.Environment')]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $DiscoveryUrl,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    $query = ConvertTo-CrmRequestJson -Document ([ordered]@{ discovery_url = $DiscoveryUrl })
    Write-Verbose "Asking the discovery service for the environments of the user of $($conn.Url): $query"
    try {
        $json = $conn.Client.GetEnvironments($query)
    }
    catch {
        $target = $DiscoveryUrl
        if ([string]::IsNullOrEmpty($target)) { $target = $conn.Url }
        $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $target))
    }
    $result = $json | ConvertFrom-Json
    foreach ($item in @($result.environments)) {
        if ($null -ne $item) {
            ConvertTo-CrmPascalObject -InputObject $item -TypeName 'CrmServerSideSync.Environment'
        }
    }
}
