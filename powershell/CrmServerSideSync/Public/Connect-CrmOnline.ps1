function Connect-CrmOnline {
    <#
    .SYNOPSIS
    Connects to a Dynamics 365 (online) / Dataverse organization.

    .DESCRIPTION
    Creates a native crmsync client for the organization at -Url, authenticating either with an
    access token (-AccessToken) or with an app registration's client secret (-ClientId, -TenantId,
    -ClientSecret). It calls WhoAmI to prove the connection works, stores the connection as the
    module's default (used by every Crm cmdlet that is not given -Connection) and returns it.

    Secrets are accepted only as SecureString. They are decoded straight into the buffer handed to
    the native library, which is cleared right after the call; they never appear in output,
    verbose messages or errors.

    .PARAMETER Url
    The organization URL, for example https://contoso.crm.dynamics.com. Must be https (plain http
    is accepted only for a loopback address such as a local simulator).

    .PARAMETER AccessToken
    A bearer token for the organization (resource https://<org>.crm.dynamics.com).

    .PARAMETER ClientId
    The application (client) id of the app registration.

    .PARAMETER TenantId
    The Microsoft Entra tenant id (GUID) or domain.

    .PARAMETER ClientSecret
    The app registration's client secret.

    .PARAMETER AuthorityHost
    The authority host, https://login.microsoftonline.com by default (sovereign clouds use another).

    .PARAMETER TimeoutSeconds
    Timeout of each HTTP request, in seconds.

    .PARAMETER MaxRetries
    How many times a throttled or transiently failing request is retried.

    .EXAMPLE
    $secret = Read-Host -AsSecureString -Prompt 'Client secret'
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -ClientSecret $secret

    Connects with an app registration (client credentials).

    .EXAMPLE
    $token = ConvertTo-SecureString (Get-AzAccessToken -ResourceUrl https://contoso.crm.dynamics.com).Token -AsPlainText -Force
    $connection = Connect-CrmOnline -Url https://contoso.crm.dynamics.com -AccessToken $token
    Get-CrmMailbox -Connection $connection

    Connects with an access token obtained elsewhere and uses the connection explicitly.

    .OUTPUTS
    CrmServerSideSync.Connection
    #>
    [CmdletBinding(DefaultParameterSetName = 'AccessToken')]
    [OutputType('CrmServerSideSync.Connection')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Url,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [System.Security.SecureString] $AccessToken,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [ValidateNotNullOrEmpty()]
        [string] $ClientId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [ValidateNotNullOrEmpty()]
        [string] $TenantId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [System.Security.SecureString] $ClientSecret,

        [Parameter(ParameterSetName = 'ClientSecret')]
        [ValidateNotNullOrEmpty()]
        [string] $AuthorityHost,

        [ValidateRange(1, 3600)]
        [int] $TimeoutSeconds,

        [ValidateRange(0, 20)]
        [int] $MaxRetries
    )

    $uri = $null
    if (-not [System.Uri]::TryCreate($Url, [System.UriKind]::Absolute, [ref]$uri) -or ($uri.Scheme -ne 'https' -and $uri.Scheme -ne 'http')) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ArgumentException ("'$Url' is not an absolute https URL. Use the organization URL, for example https://contoso.crm.dynamics.com.")),
            'CrmSync.InvalidUrl', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Url)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    if ($uri.Scheme -eq 'http' -and -not $uri.IsLoopback) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ArgumentException ("'$Url' uses plain http: only https is allowed (http only for a loopback address such as a local simulator).")),
            'CrmSync.InsecureUrl', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Url)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $baseUrl = $uri.GetLeftPart([System.UriPartial]::Authority)

    $placeholder = [CrmSync.Interop.CrmClient]::SecretPlaceholder
    if ($PSCmdlet.ParameterSetName -eq 'AccessToken') {
        $kind = 'AccessToken'
        $credential = [ordered]@{ kind = 'access_token'; access_token = $placeholder }
        $secret = $AccessToken
    }
    else {
        $kind = 'ClientSecret'
        $credential = [ordered]@{ kind = 'client_secret'; tenant_id = $TenantId; client_id = $ClientId; client_secret = $placeholder }
        if ($PSBoundParameters.ContainsKey('AuthorityHost')) { $credential['authority_host'] = $AuthorityHost }
        $secret = $ClientSecret
    }
    $config = [ordered]@{ url = $baseUrl; credential = $credential }
    if ($PSBoundParameters.ContainsKey('TimeoutSeconds')) { $config['timeout_secs'] = $TimeoutSeconds }
    if ($PSBoundParameters.ContainsKey('MaxRetries')) { $config['max_retries'] = $MaxRetries }
    $template = ConvertTo-CrmRequestJson -Document $config

    if ($kind -eq 'ClientSecret') {
        Write-Verbose "Connecting to $baseUrl with client credentials (client id $ClientId, tenant $TenantId)."
    }
    else {
        Write-Verbose "Connecting to $baseUrl with an access token."
    }

    $client = $null
    try {
        $client = [CrmSync.Interop.CrmClient]::Create($template, $secret)
        $whoAmI = $client.WhoAmI() | ConvertFrom-Json
    }
    catch {
        if ($null -ne $client) { $client.Dispose() }
        $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $baseUrl))
    }

    $connection = [pscustomobject][ordered]@{
        PSTypeName                  = 'CrmServerSideSync.Connection'
        Url                         = $baseUrl
        OrganizationId              = $whoAmI.organization_id
        OrganizationName            = $whoAmI.organization_name
        UserId                      = $whoAmI.user_id
        BusinessUnitId              = $whoAmI.business_unit_id
        AuthenticationKind          = $kind
        ConnectedAt                 = [DateTime]::Now
    }
    # The native handle: kept out of the default display (format view and default property set).
    Add-Member -InputObject $connection -MemberType NoteProperty -Name Client -Value $client
    $defaultSet = New-Object System.Management.Automation.PSPropertySet ('DefaultDisplayPropertySet', [string[]]@('Url', 'OrganizationName', 'OrganizationId', 'UserId', 'AuthenticationKind', 'ConnectedAt'))
    Add-Member -InputObject $connection -MemberType MemberSet -Name PSStandardMembers -Value ([System.Management.Automation.PSMemberInfo[]]@($defaultSet))

    $previous = $script:DefaultConnection
    $script:DefaultConnection = $connection
    if ($null -ne $previous -and -not [object]::ReferenceEquals($previous.Client, $client)) {
        Write-Verbose "Replacing the default connection to $($previous.Url) (the previous connection object stays usable until disconnected)."
    }
    Write-Verbose "Connected to $($connection.OrganizationName) ($($connection.OrganizationId)) as user $($connection.UserId)."
    $connection
}
