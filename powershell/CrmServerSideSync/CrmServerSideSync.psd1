@{
    RootModule           = 'CrmServerSideSync.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '3f6b2a1e-8c4d-4e7a-9b35-6d1f0c2e7a94'
    Author               = 'crmsync contributors'
    CompanyName          = 'crmsync'
    Copyright            = '(c) crmsync contributors. MIT License.'
    Description          = 'Connects Dynamics 365 (online) to Exchange Online with server-side synchronization: email server profiles, mailboxes, approval, Test & Enable. Runs on a native library (crmsync) through a precompiled interop assembly.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    RequiredAssemblies   = @('lib/CrmSync.Interop.dll')
    FormatsToProcess     = @('CrmServerSideSync.Format.ps1xml')
    FunctionsToExport    = @(
        'Connect-CrmOnline'
        'Disconnect-CrmOnline'
        'Get-CrmOrganization'
        'Get-CrmEmailServerProfile'
        'Get-CrmMailbox'
        'Test-CrmExchangeReadiness'
        'Set-CrmDefaultEmailServerProfile'
        'Get-CrmMailboxDefaults'
        'Set-CrmMailboxDefaults'
        'Set-CrmMailbox'
        'Approve-CrmMailbox'
        'Deny-CrmMailbox'
        'Enable-CrmMailbox'
        'Get-CrmMailboxAlert'
        'Invoke-CrmExchangeOnlineSetup'
        'Disable-CrmServerSideSync'
        'Undo-CrmChange'
        'Test-CrmMailboxOwnership'
    )
    CmdletsToExport      = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Dynamics365', 'Dataverse', 'ExchangeOnline', 'ServerSideSync', 'Mailbox')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
        # The crmsync C ABI version this module speaks; the native library must report the same.
        CrmSyncAbiVersion = 1
    }
}
