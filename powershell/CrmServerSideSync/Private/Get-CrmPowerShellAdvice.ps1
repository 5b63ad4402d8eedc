function Get-CrmPowerShellAdvice {
    <#
    .SYNOPSIS
    The advice in this module's terms (its cmdlets and parameters) for an error or readiness check of
    the native library. The library's remedies are neutral (a C caller reads them too); they carry a
    stable `hint` that names what to do, and the error's status says what kind of failure it was.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowEmptyString()] [string] $Hint,
        [AllowEmptyString()] [string] $Status
    )
    $advice = switch ($Hint) {
        'sign_in_again' { 'Run Connect-CrmOnline -DeviceCode again and finish the sign-in in the browser.' }
        'sign_in_as_user' { 'Connect-CrmOnline -DeviceCode (or -AccessToken with a user''s token for the discovery service) signs in as a user; Get-CrmEnvironment works with that connection.' }
        'connect_again' { 'Run Connect-CrmOnline again; with -ClientId/-TenantId and a secret or certificate, tokens renew automatically.' }
        'choose_cloud' { 'Pass -Cloud or -AuthorityHost to Connect-CrmOnline for a national cloud.' }
        'certificate_path' { 'Check -CertificatePath of Connect-CrmOnline.' }
        'check_privileges' { 'Run Test-CrmExchangeReadiness to see which.' }
        'list_profiles' { 'Run Get-CrmEmailServerProfile to list the profiles.' }
        'list_mailboxes' { 'Run Get-CrmMailbox to check the ids.' }
        'set_default_profile' { "Run Set-CrmDefaultEmailServerProfile (or Set-CrmMailboxDefaults -ServerProfile 'Microsoft Exchange Online')." }
        'inspect_defaults' { 'Get-CrmMailboxDefaults -Raw shows the value.' }
        'run_setup' { 'Run Invoke-CrmExchangeOnlineSetup.' }
        'approve_mailbox' { 'Approve it with Approve-CrmMailbox, then run Enable-CrmMailbox again.' }
        'read_alerts' { 'Get-CrmMailboxAlert lists the alerts; then run Enable-CrmMailbox again.' }
        'test_again' { 'Run Enable-CrmMailbox again.' }
        'proxy_credential' { 'Pass the proxy''s user name and password with Connect-CrmOnline -ProxyCredential.' }
        'certificate_authority' { 'Or give the CA''s PEM file with Connect-CrmOnline -CertificateAuthorityFile.' }
        'check_later' { 'Check later with Get-CrmMailbox (statuses) and Get-CrmMailboxAlert, or run again with a longer -Timeout.' }
        default { $null }
    }
    if ($null -eq $advice -and $Status -eq 'Authentication') {
        $advice = 'Reconnect with Connect-CrmOnline using valid credentials.'
    }
    $advice
}
