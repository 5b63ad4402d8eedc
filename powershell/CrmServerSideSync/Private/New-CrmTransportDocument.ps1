function New-CrmTransportDocument {
    <#
    .SYNOPSIS
    Builds the "transport" member of the client configuration from Connect-CrmOnline's -Proxy,
    -ProxyCredential and -CertificateAuthorityFile. Returns @{ Document (ordered, or $null when
    none is given); Secrets (SecureString[] whose placeholders start at -SecretIndex) }.
    .DESCRIPTION
    The proxy password travels like every other secret: as a placeholder in the JSON and a
    SecureString decoded straight into the native call's buffer. The CA file path is resolved
    against the current PowerShell location.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Parameters,
        [Parameter(Mandatory)] [int] $SecretIndex
    )
    $document = [ordered]@{}
    $secrets = New-Object 'System.Collections.Generic.List[System.Security.SecureString]'
    if ($Parameters.ContainsKey('CertificateAuthorityFile')) {
        $document['ca_file'] = $Cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Parameters['CertificateAuthorityFile'])
    }
    if ($Parameters.ContainsKey('Proxy')) {
        # Credentials in a URL end up in logs and error messages: refused here with this
        # module's advice, before the URL goes anywhere (the library refuses it too).
        if (-not [string]::IsNullOrEmpty($Parameters['Proxy'].UserInfo)) {
            $shown = $Parameters['Proxy'].GetComponents([System.UriComponents]::SchemeAndServer -bor [System.UriComponents]::Path, [System.UriFormat]::UriEscaped)
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ("The -Proxy URL '$shown' carries a user name or password: give them with -ProxyCredential instead.")),
                'CrmSync.ProxyUrlWithCredential', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)
            $Cmdlet.ThrowTerminatingError($record)
        }
        $document['proxy'] = $Parameters['Proxy'].AbsoluteUri
    }
    if ($Parameters.ContainsKey('ProxyCredential')) {
        if (-not $Parameters.ContainsKey('Proxy')) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ('-ProxyCredential needs -Proxy: give the proxy URL too (for example -Proxy http://proxy.contoso.com:8080).')),
                'CrmSync.ProxyCredentialWithoutProxy', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)
            $Cmdlet.ThrowTerminatingError($record)
        }
        $credential = $Parameters['ProxyCredential']
        $document['proxy_username'] = $credential.UserName
        $document['proxy_password'] = [CrmSync.Interop.CrmClient]::GetSecretPlaceholder($SecretIndex + $secrets.Count)
        $secrets.Add($credential.Password)
    }
    $result = $null
    if ($document.Count -gt 0) { $result = $document }
    @{ Document = $result; Secrets = $secrets }
}
