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
        'Get-CrmEnvironment'
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
        'Get-CrmMailboxHealth'
        'Repair-CrmMailbox'
        'Disable-CrmServerSideSync'
        'Undo-CrmChange'
        'Test-CrmMailboxOwnership'
    )
    CmdletsToExport      = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Dynamics365', 'Dataverse', 'ExchangeOnline', 'ServerSideSync', 'Mailbox', 'AzureAutomation', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            # The project's public repository (set the real address before the first Gallery release).
            ProjectUri   = 'https://github.com/crmsync/crmsync'
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = '0.1.0: first release. Native libraries for win-x64, win-arm64, linux-x64, linux-arm64, osx-x64 and osx-arm64; Windows PowerShell 5.1 and PowerShell 7; Azure Automation (5.1 and 7.x runtime environments).'
        }
        # The crmsync C ABI version this module speaks; the native library must report the same.
        CrmSyncAbiVersion = 1
    }
}
