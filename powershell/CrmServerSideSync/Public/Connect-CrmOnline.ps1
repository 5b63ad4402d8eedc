function Connect-CrmOnline {
    <#
    .SYNOPSIS
    Connects to a Dynamics 365 (online) / Dataverse organization.

    .DESCRIPTION
    Creates a native crmsync client for the organization at -Url and signs in right away, so that a
    wrong credential fails here with a clear error. Ways to sign in:

    - an access token obtained elsewhere (-AccessToken);
    - an app registration with a client secret (-ClientId, -TenantId, -ClientSecret);
    - an app registration with a certificate, from a PFX/PEM file (-CertificatePath, -CertificatePassword)
      or, on Windows, from the certificate store by thumbprint (-CertificateThumbprint);
    - the managed identity of the Azure resource the script runs on, such as an Azure Automation
      account (-ManagedIdentity, -ManagedIdentityClientId for a user-assigned identity);
    - a person signing in on another device with a code (-DeviceCode): the code and the page to open
      are written as a warning and to the information stream; Ctrl+C cancels.

    It then calls WhoAmI to prove the connection works, stores the connection as the module's default
    (used by every Crm cmdlet that is not given -Connection) and returns it.

    Secrets are accepted only as SecureString. They are decoded straight into the buffer handed to
    the native library, which is cleared right after the call; they never appear in output,
    verbose messages or errors.

    .PARAMETER Url
    The organization URL, for example https://contoso.crm.dynamics.com. Must be https (plain http
    is accepted only for a loopback address such as a local simulator). Several URLs connect to
    several environments with the same credential (an app registration is an application user in
    each): one sign-in and one connection object per environment, returned in order; an
    environment that cannot be connected is a non-terminating error (TargetObject: its URL) and the
    others still connect. The last one connected becomes the default connection. URLs can be
    piped in, as strings or as the rows of Get-CrmEnvironment (their Url property): every piped
    URL is connected once the input has ended, as if given together.

    .PARAMETER Proxy
    A proxy for every request of this connection (http://host:port), instead of the system proxy
    settings and the HTTPS_PROXY/HTTP_PROXY environment variables; NO_PROXY still applies. Put no
    user name or password in the URL: use -ProxyCredential.

    .PARAMETER ProxyCredential
    The user name and password for a proxy that demands Basic authentication (HTTP 407). The
    password is a secret: it never appears in output, verbose messages or errors.

    .PARAMETER CertificateAuthorityFile
    A PEM file with the certificate authority (or authorities) to trust for the organization's
    certificate, in addition to the system's (for example a TLS-inspecting proxy's CA that is not in
    the store). Certificate checks cannot be turned off.

    .PARAMETER AccessToken
    A bearer token for the organization (resource https://<org>.crm.dynamics.com).

    .PARAMETER ClientId
    The application (client) id of the app registration. With -DeviceCode it is optional (default:
    the public client id the Dataverse tools use).

    .PARAMETER TenantId
    The Microsoft Entra tenant id (GUID) or domain. With -DeviceCode it is optional (default:
    "organizations", any work or school account).

    .PARAMETER ClientSecret
    The app registration's client secret.

    .PARAMETER CertificatePath
    A .pfx/.p12 file with the app registration's certificate and its private key (give
    -CertificatePassword when it is protected), or a .pem file with the certificate and its
    unencrypted private key. Relative paths are resolved against the current location.

    .PARAMETER CertificatePassword
    The password of the PFX file given with -CertificatePath.

    .PARAMETER CertificateThumbprint
    Windows only: the thumbprint of a certificate with an exportable private key in
    Cert:\CurrentUser\My or Cert:\LocalMachine\My. It is exported in memory with a random one-time
    password. For a non-exportable key, export a PFX where possible and use -CertificatePath.

    .PARAMETER ManagedIdentity
    Signs in with the managed identity of the Azure resource the script runs on (Azure Automation,
    Azure Functions, App Service, a virtual machine).

    .PARAMETER ManagedIdentityClientId
    The client id of a user-assigned managed identity; without it the system-assigned identity is used.

    .PARAMETER IdentityEndpoint
    Advanced (tests): the managed identity endpoint, instead of the IDENTITY_ENDPOINT environment variable.

    .PARAMETER IdentityHeader
    Advanced (tests): the secret header value for -IdentityEndpoint, instead of IDENTITY_HEADER.

    .PARAMETER ImdsEndpoint
    Advanced (tests): the base URL of the instance metadata service, instead of http://169.254.169.254.

    .PARAMETER DeviceCode
    Signs in as a person with a device code: open the page shown in the warning on any device and
    enter the code. The cmdlet waits until the sign-in completes, is declined or the code expires.

    .PARAMETER Cloud
    The national cloud of the tenant: Public (default, derived from -Url), USGov (GCC High),
    USGovDoD or China. For client secret, certificate and device code sign-ins.

    .PARAMETER AuthorityHost
    The authority host, https://login.microsoftonline.com by default (sovereign clouds use another;
    -Cloud picks it by name). For client secret, certificate and device code sign-ins.

    .PARAMETER TimeoutSeconds
    Timeout of each HTTP request, in seconds.

    .PARAMETER MaxRetries
    How many times a throttled or transiently failing request is retried.

    .PARAMETER EnvironmentType
    What the environment is: Production, Sandbox, Developer, Trial or Default. Bound from the
    rows of Get-CrmEnvironment (the type the discovery service gives), or given for a URL. The
    connection keeps it, and Invoke-CrmExchangeOnlineSetup applies its non-production guard to
    a connection whose type is anything but Production (its -Environment overrides this).

    .EXAMPLE
    $secret = Read-Host -AsSecureString -Prompt 'Client secret'
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -ClientSecret $secret

    Connects with an app registration (client credentials).

    .EXAMPLE
    $token = ConvertTo-SecureString (Get-AzAccessToken -ResourceUrl https://contoso.crm.dynamics.com).Token -AsPlainText -Force
    $connection = Connect-CrmOnline -Url https://contoso.crm.dynamics.com -AccessToken $token
    Get-CrmMailbox -Connection $connection

    Connects with an access token obtained elsewhere and uses the connection explicitly.

    .EXAMPLE
    $password = Read-Host -AsSecureString -Prompt 'PFX password'
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -CertificatePath ./crmsync-app.pfx -CertificatePassword $password

    Connects with an app registration and its certificate (unattended jobs).

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -CertificateThumbprint 3A1F0C5E9B7D2468ACE013579BDF2468ACE01357

    Windows: connects with a certificate from Cert:\CurrentUser\My (or Cert:\LocalMachine\My).

    .EXAMPLE
    $environments = Connect-CrmOnline -Url https://contoso.crm.dynamics.com, https://contoso-test.crm.dynamics.com, https://fabrikam.crm4.dynamics.com -ManagedIdentity
    Invoke-CrmExchangeOnlineSetup -Connection $environments -Confirm:$false

    Connects to three environments with the same managed identity and sets them up in one run.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -DeviceCode -TenantId contoso.onmicrosoft.com | Out-Null
    $all = Get-CrmEnvironment | Where-Object State -eq 'Enabled' | Connect-CrmOnline -ClientId 5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f -TenantId contoso.onmicrosoft.com -CertificatePath ./crmsync-app.pfx

    Lists the environments as yourself, then connects the app registration to every one of them
    (piped URLs are connected together, one connection each), each connection with its
    environment type.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ManagedIdentity

    In an Azure Automation runbook (or another Azure resource): connects with the system-assigned
    managed identity, which must be an application user with a security role in the environment.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ManagedIdentity -Proxy http://proxy.contoso.com:8080 -ProxyCredential (Get-AutomationPSCredential -Name 'Proxy')

    On a Hybrid Runbook Worker behind an authenticating proxy. Without -Proxy, the system proxy
    settings and HTTPS_PROXY/NO_PROXY apply.

    .EXAMPLE
    Connect-CrmOnline -Url https://contoso.crm.dynamics.com -DeviceCode -TenantId contoso.onmicrosoft.com

    Signs in as yourself: open the page in the warning on any device and enter the code shown.

    .OUTPUTS
    CrmServerSideSync.Connection
    #>
    [CmdletBinding(DefaultParameterSetName = 'AccessToken')]
    [OutputType('CrmServerSideSync.Connection')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string[]] $Url,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [System.Security.SecureString] $AccessToken,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [Parameter(ParameterSetName = 'DeviceCode')]
        [ValidateNotNullOrEmpty()]
        [string] $ClientId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [Parameter(ParameterSetName = 'DeviceCode')]
        [ValidateNotNullOrEmpty()]
        [string] $TenantId,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [System.Security.SecureString] $ClientSecret,

        [Parameter(Mandatory, ParameterSetName = 'CertificatePath')]
        [ValidateNotNullOrEmpty()]
        [string] $CertificatePath,

        [Parameter(ParameterSetName = 'CertificatePath')]
        [System.Security.SecureString] $CertificatePassword,

        [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]
        [ValidateNotNullOrEmpty()]
        [string] $CertificateThumbprint,

        [Parameter(Mandatory, ParameterSetName = 'ManagedIdentity')]
        [switch] $ManagedIdentity,

        [Parameter(ParameterSetName = 'ManagedIdentity')]
        [guid] $ManagedIdentityClientId,

        [Parameter(ParameterSetName = 'ManagedIdentity', DontShow)]
        [uri] $IdentityEndpoint,

        [Parameter(ParameterSetName = 'ManagedIdentity', DontShow)]
        [System.Security.SecureString] $IdentityHeader,

        [Parameter(ParameterSetName = 'ManagedIdentity', DontShow)]
        [uri] $ImdsEndpoint,

        [Parameter(Mandatory, ParameterSetName = 'DeviceCode')]
        [switch] $DeviceCode,

        # Set by a connect to several URLs: their connections share the person's sign-in.
        [Parameter(ParameterSetName = 'DeviceCode', DontShow)]
        [guid] $SignInGroup,

        [Parameter(ParameterSetName = 'ClientSecret')]
        [Parameter(ParameterSetName = 'CertificatePath')]
        [Parameter(ParameterSetName = 'CertificateThumbprint')]
        [Parameter(ParameterSetName = 'DeviceCode')]
        [ValidateSet('Public', 'USGov', 'USGovDoD', 'China')]
        [string] $Cloud,

        [Parameter(ParameterSetName = 'ClientSecret')]
        [Parameter(ParameterSetName = 'CertificatePath')]
        [Parameter(ParameterSetName = 'CertificateThumbprint')]
        [Parameter(ParameterSetName = 'DeviceCode')]
        [ValidateNotNullOrEmpty()]
        [string] $AuthorityHost,

        [ValidateRange(1, 3600)]
        [int] $TimeoutSeconds,

        [ValidateRange(0, 20)]
        [int] $MaxRetries,

        [ValidateNotNull()]
        [uri] $Proxy,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $ProxyCredential,

        [ValidateNotNullOrEmpty()]
        [string] $CertificateAuthorityFile,

        # Bound from Get-CrmEnvironment's rows; an empty value (a type discovery does not name) is allowed.
        [Parameter(ValueFromPipelineByPropertyName)]
        [AllowEmptyString()]
        [string] $EnvironmentType,

        [Parameter(ValueFromPipelineByPropertyName, DontShow)]
        [Nullable[int]] $OrganizationType
    )
    begin {
        $targets = New-Object 'System.Collections.Generic.List[hashtable]'
    }
    process {
        if (-not [string]::IsNullOrEmpty($EnvironmentType) -and @('Production', 'Sandbox', 'Developer', 'Trial', 'Default') -notcontains $EnvironmentType) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ("-EnvironmentType '$EnvironmentType' is not an environment type: use Production, Sandbox, Developer, Trial or Default.")),
                'CrmSync.InvalidEnvironmentType', [System.Management.Automation.ErrorCategory]::InvalidArgument, $EnvironmentType)
            $PSCmdlet.ThrowTerminatingError($record)
        }
        # Piped URLs (strings, or Get-CrmEnvironment's rows) are collected: connected together below.
        foreach ($one in @($Url | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })) {
            $targets.Add(@{ Url = [string]$one; EnvironmentType = $EnvironmentType; OrganizationType = $OrganizationType })
        }
    }
    end {

        # Several environments: one sign-in and one connection per URL, with the same credential. An
        # environment that fails (sign-in, unreachable) is a non-terminating error; the others connect.
        if ($targets.Count -eq 0) { return }
        if ($targets.Count -gt 1) {
            $each = @{} + $PSBoundParameters
            # A person signs in once: the first environment shows the code, the others redeem
            # the same sign-in (in memory, never written anywhere).
            if ($PSCmdlet.ParameterSetName -eq 'DeviceCode' -and -not $each.ContainsKey('SignInGroup')) { $each['SignInGroup'] = [guid]::NewGuid() }
            foreach ($target in $targets) {
                $each['Url'] = @($target.Url)
                foreach ($name in 'EnvironmentType', 'OrganizationType') {
                    if ($null -ne $target[$name] -and [string]$target[$name] -ne '') { $each[$name] = $target[$name] } else { [void]$each.Remove($name) }
                }
                try { Connect-CrmOnline @each -ErrorAction Stop }
                catch { $PSCmdlet.WriteError($_) }  # its TargetObject is the environment's URL
            }
            return
        }
        $Url = $targets[0].Url
        $EnvironmentType = $targets[0].EnvironmentType
        $OrganizationType = $targets[0].OrganizationType
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

        $built = New-CrmCredential -Cmdlet $PSCmdlet -ParameterSetName $PSCmdlet.ParameterSetName -Parameters $PSBoundParameters
        $kind = $built.Kind
        $config = [ordered]@{ url = $baseUrl; credential = $built.Credential }
        if ($PSBoundParameters.ContainsKey('TimeoutSeconds')) { $config['timeout_secs'] = $TimeoutSeconds }
        if ($PSBoundParameters.ContainsKey('MaxRetries')) { $config['max_retries'] = $MaxRetries }
        $transport = New-CrmTransportDocument -Cmdlet $PSCmdlet -Parameters $PSBoundParameters -SecretIndex $built.Secrets.Count
        if ($null -ne $transport.Document) { $config['transport'] = $transport.Document }
        $secrets = @($built.Secrets) + @($transport.Secrets)
        $template = ConvertTo-CrmRequestJson -Document $config
        Write-Verbose "Connecting to $baseUrl with $($built.Description)."

        $client = $null
        $connected = $false
        try {
            try {
                if ($secrets.Count -gt 0) {
                    $client = [CrmSync.Interop.CrmClient]::Create($template, [System.Security.SecureString[]]$secrets)
                }
                else {
                    $client = [CrmSync.Interop.CrmClient]::Create($template)
                }
            }
            catch {
                $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $baseUrl))
            }
            $signIn = Invoke-CrmAuthenticate -Cmdlet $PSCmdlet -Client $client -TargetObject $baseUrl
            if ($null -ne $signIn -and $signIn.PSObject.Properties['expires_on'] -and $null -ne $signIn.expires_on) {
                Write-Verbose ("Signed in ({0}); the access token is valid until {1:u}." -f $kind, [DateTimeOffset]::FromUnixTimeSeconds([long]$signIn.expires_on).UtcDateTime)
            }
            else {
                Write-Verbose "Signed in ($kind)."
            }
            try {
                $whoAmI = $client.WhoAmI() | ConvertFrom-Json
            }
            catch {
                $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $baseUrl))
            }
            $connected = $true
        }
        finally {
            # A failed or cancelled (Ctrl+C) connect frees its client.
            if (-not $connected -and $null -ne $client) { $client.Dispose() }
            # The exported certificate (thumbprint) exists only for this call.
            if ($PSCmdlet.ParameterSetName -eq 'CertificateThumbprint') {
                foreach ($s in $built.Secrets) { $s.Dispose() }
            }
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
            # From -EnvironmentType or discovery (Get-CrmEnvironment piped in); empty when not known.
            EnvironmentType             = $(if ([string]::IsNullOrEmpty($EnvironmentType)) { $null } else { $EnvironmentType })
            OrganizationType            = $OrganizationType
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
}
