# The "credential" part of the client configuration for each parameter set of Connect-CrmOnline.
# Secrets stay SecureStrings: the document holds placeholders ([CrmSync.Interop.CrmClient]::GetSecretPlaceholder)
# and CrmClient.Create decodes the secrets straight into the bytes handed to the native library.

function New-CrmCredential {
    <#
    .SYNOPSIS
    Builds the credential document of Connect-CrmOnline's parameter set. Returns
    @{ Kind; Credential (ordered, with secret placeholders); Secrets (SecureString[] in placeholder order); Description }.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [string] $ParameterSetName,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Parameters
    )
    $secrets = New-Object 'System.Collections.Generic.List[System.Security.SecureString]'
    # Adds a secret and returns its placeholder (the JSON string the native call replaces).
    $addSecret = {
        param([System.Security.SecureString] $Secret)
        $placeholder = [CrmSync.Interop.CrmClient]::GetSecretPlaceholder($secrets.Count)
        $secrets.Add($Secret)
        $placeholder
    }
    $value = { param([string] $Name) if ($Parameters.ContainsKey($Name)) { $Parameters[$Name] } else { $null } }

    $credential = [ordered]@{}
    switch ($ParameterSetName) {
        'AccessToken' {
            $kind = 'AccessToken'
            $credential['kind'] = 'access_token'
            $credential['access_token'] = & $addSecret $Parameters['AccessToken']
            $description = 'an access token'
        }
        'ClientSecret' {
            $kind = 'ClientSecret'
            $credential['kind'] = 'client_secret'
            $credential['tenant_id'] = $Parameters['TenantId']
            $credential['client_id'] = $Parameters['ClientId']
            $credential['client_secret'] = & $addSecret $Parameters['ClientSecret']
            $description = "client credentials (client id $($Parameters['ClientId']), tenant $($Parameters['TenantId']))"
        }
        'CertificatePath' {
            $kind = 'ClientCertificate'
            $path = [string]$Parameters['CertificatePath']
            $provider = $null
            $resolved = $null
            try {
                $resolved = @($Cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath($path, [ref]$provider))
            }
            catch {
                $resolved = $null
            }
            if ($null -eq $resolved -or $resolved.Count -ne 1 -or $provider.Name -ne 'FileSystem' -or -not [System.IO.File]::Exists($resolved[0])) {
                $record = New-Object System.Management.Automation.ErrorRecord (
                    (New-Object System.Management.Automation.ItemNotFoundException ("The certificate file '$path' was not found. Give the path of a .pfx/.p12 file (with -CertificatePassword) or of a .pem file with the certificate and its unencrypted private key.")),
                    'CrmSync.CertificateFileNotFound', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $path)
                $Cmdlet.ThrowTerminatingError($record)
            }
            $credential['kind'] = 'client_certificate'
            $credential['tenant_id'] = $Parameters['TenantId']
            $credential['client_id'] = $Parameters['ClientId']
            $credential['certificate_path'] = $resolved[0]
            $password = & $value 'CertificatePassword'
            if ($null -ne $password) { $credential['certificate_password'] = & $addSecret $password }
            $description = "the client certificate in '$($resolved[0])' (client id $($Parameters['ClientId']), tenant $($Parameters['TenantId']))"
        }
        'CertificateThumbprint' {
            $kind = 'ClientCertificate'
            $exported = Get-CrmStoreCertificate -Cmdlet $Cmdlet -Thumbprint $Parameters['CertificateThumbprint']
            $credential['kind'] = 'client_certificate'
            $credential['tenant_id'] = $Parameters['TenantId']
            $credential['client_id'] = $Parameters['ClientId']
            $credential['certificate_pfx_base64'] = & $addSecret $exported.PfxBase64
            $credential['certificate_password'] = & $addSecret $exported.Password
            $description = "the certificate $($exported.Thumbprint) ($($exported.Subject)) from $($exported.Location) (client id $($Parameters['ClientId']), tenant $($Parameters['TenantId']))"
        }
        'ManagedIdentity' {
            $kind = 'ManagedIdentity'
            $credential['kind'] = 'managed_identity'
            $description = 'the system-assigned managed identity'
            $clientId = & $value 'ManagedIdentityClientId'
            if ($null -ne $clientId) {
                $credential['client_id'] = ([guid]$clientId).ToString()
                $description = "the user-assigned managed identity $($credential['client_id'])"
            }
            $endpoint = & $value 'IdentityEndpoint'
            if ($null -ne $endpoint) {
                $credential['identity_endpoint'] = ([uri]$endpoint).AbsoluteUri
                $description += " (identity endpoint $($credential['identity_endpoint']))"
            }
            $header = & $value 'IdentityHeader'
            if ($null -ne $header) { $credential['identity_header'] = & $addSecret $header }
            $imds = & $value 'ImdsEndpoint'
            if ($null -ne $imds) {
                $credential['imds_endpoint'] = ([uri]$imds).AbsoluteUri.TrimEnd('/')
                $description += " (metadata endpoint $($credential['imds_endpoint']))"
            }
        }
        'DeviceCode' {
            $kind = 'DeviceCode'
            $credential['kind'] = 'device_code'
            $description = 'a device code sign-in'
            $tenant = & $value 'TenantId'
            if (-not [string]::IsNullOrEmpty($tenant)) { $credential['tenant_id'] = $tenant; $description += " (tenant $tenant)" }
            $clientId = & $value 'ClientId'
            if (-not [string]::IsNullOrEmpty($clientId)) { $credential['client_id'] = $clientId; $description += " (client id $clientId)" }
            $group = & $value 'SignInGroup'
            if ($null -ne $group) { $credential['sign_in_group'] = ([guid]$group).ToString() }
        }
        default {
            throw "Unknown parameter set '$ParameterSetName'."
        }
    }

    # The authority: only for the kinds that sign in at Microsoft Entra ID (the config refuses it elsewhere).
    if (@('ClientSecret', 'CertificatePath', 'CertificateThumbprint', 'DeviceCode') -contains $ParameterSetName) {
        $cloud = & $value 'Cloud'
        $authorityHost = & $value 'AuthorityHost'
        if (-not [string]::IsNullOrEmpty($cloud) -and -not [string]::IsNullOrEmpty($authorityHost)) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ('Give either -Cloud or -AuthorityHost, not both: -Cloud picks the authority of a national cloud, -AuthorityHost names one explicitly.')),
                'CrmSync.CloudAndAuthorityHost', [System.Management.Automation.ErrorCategory]::InvalidArgument, $authorityHost)
            $Cmdlet.ThrowTerminatingError($record)
        }
        if (-not [string]::IsNullOrEmpty($cloud)) { $credential['cloud'] = $cloud; $description += " in the $cloud cloud" }
        if (-not [string]::IsNullOrEmpty($authorityHost)) { $credential['authority_host'] = $authorityHost; $description += " at $authorityHost" }
    }

    @{ Kind = $kind; Credential = $credential; Secrets = $secrets.ToArray(); Description = $description }
}
