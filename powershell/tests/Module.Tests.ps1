# The manifest, the exported surface, help, and the native library checks at import.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Module manifest' {
    BeforeAll {
        $manifest = Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop
        $data = Import-PowerShellDataFile -Path $ModuleManifest
    }

    It 'is a valid manifest for version 0.1.0' {
        $manifest.Name | Should -Be 'CrmServerSideSync'
        $manifest.Version | Should -Be ([version]'0.1.0')
        $data.RootModule | Should -Be 'CrmServerSideSync.psm1'
        $data.PowerShellVersion | Should -Be '5.1'
    }

    It 'supports Windows PowerShell and PowerShell 7' {
        $data.CompatiblePSEditions | Should -Contain 'Desktop'
        $data.CompatiblePSEditions | Should -Contain 'Core'
    }

    It 'exports explicit lists without wildcards' {
        foreach ($key in 'FunctionsToExport', 'CmdletsToExport', 'AliasesToExport', 'VariablesToExport') {
            $data.ContainsKey($key) | Should -BeTrue -Because "$key must be explicit"
            @($data[$key]) | Where-Object { $_ -match '\*' } | Should -BeNullOrEmpty
        }
        @($data.CmdletsToExport).Count | Should -Be 0
        @($data.FunctionsToExport).Count | Should -BeGreaterThan 0
    }

    It 'exports exactly the functions of the Public folder' {
        $public = Get-ChildItem -Path (Join-Path (Split-Path $ModuleManifest) 'Public') -Filter *.ps1 | ForEach-Object { $_.BaseName } | Sort-Object
        (@($data.FunctionsToExport) | Sort-Object) | Should -Be $public
    }

    It 'loads the interop assembly and the format file through the manifest' {
        $data.RequiredAssemblies | Should -Contain 'lib/CrmSync.Interop.dll'
        $data.FormatsToProcess | Should -Contain 'CrmServerSideSync.Format.ps1xml'
    }
}

Describe 'Source layout' {
    BeforeAll {
        $moduleRoot = Split-Path -Parent $ModuleManifest
        function Get-TopLevelFunction([string] $Path) {
            $tokens = $null; $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
            @($ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false) | ForEach-Object { $_.Name })
        }
    }

    It '<_> holds one function per file, named like the file' -ForEach @('Private', 'Public') {
        $files = @(Get-ChildItem -Path (Join-Path (Split-Path -Parent $ModuleManifest) $_) -Filter '*.ps1' -File)
        $files.Count | Should -BeGreaterThan 5
        foreach ($file in $files) {
            $functions = @(Get-TopLevelFunction $file.FullName)
            "$($file.Name): $($functions -join ', ')" | Should -Be "$($file.Name): $($file.BaseName)"
        }
    }

    It 'pulls operation events in one place only (Receive-CrmOperationEvent)' {
        $pumps = @(Get-ChildItem -Path $moduleRoot -Filter '*.ps1' -File -Recurse | Where-Object { (Get-Content -LiteralPath $_.FullName -Raw) -match '\.NextEvent\(' } | ForEach-Object { $_.BaseName })
        $pumps | Should -Be @('Receive-CrmOperationEvent')
    }
}

Describe 'Imported module' {
    BeforeAll {
        Import-Module $ModuleManifest -Force -ErrorAction Stop
        $exported = (Get-Module CrmServerSideSync).ExportedFunctions.Keys
    }
    AfterAll {
        Remove-Module CrmServerSideSync -Force -ErrorAction SilentlyContinue
    }

    It 'gives every writing command (ShouldProcess) a -JournalPath' {
        $writers = @(Get-Command -Module CrmServerSideSync | Where-Object { $_.Parameters.ContainsKey('WhatIf') })
        $writers.Count | Should -BeGreaterThan 8
        @($writers | Where-Object { -not $_.Parameters.ContainsKey('JournalPath') } | ForEach-Object { $_.Name }) | Should -BeNullOrEmpty
    }

    It 'exports only the public functions (no private helpers)' {
        $exported | Should -Not -Contain 'New-CrmErrorRecord'
        $exported | Should -Not -Contain 'ConvertTo-CrmPascalObject'
        $exported | Should -Contain 'Get-CrmMailbox'
    }

    It '<_> uses an approved verb, CmdletBinding and has help with at least two examples' -ForEach @(
        'Connect-CrmOnline', 'Disconnect-CrmOnline', 'Get-CrmOrganization', 'Get-CrmEmailServerProfile', 'Get-CrmEnvironment', 'Get-CrmMailbox',
        'Test-CrmExchangeReadiness', 'Set-CrmDefaultEmailServerProfile', 'Get-CrmMailboxDefaults', 'Set-CrmMailboxDefaults',
        'Set-CrmMailbox', 'Approve-CrmMailbox', 'Deny-CrmMailbox', 'Enable-CrmMailbox', 'Get-CrmMailboxAlert', 'Invoke-CrmExchangeOnlineSetup',
        'Get-CrmMailboxHealth', 'Repair-CrmMailbox'
    ) {
        $command = Get-Command -Name $_ -Module CrmServerSideSync
        $command.CmdletBinding | Should -BeTrue
        (Get-Verb).Verb | Should -Contain $command.Verb
        $command.Noun | Should -BeLike 'Crm*'
        $help = Get-Help -Name $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        $command.Parameters.ContainsKey('Connection') -or $_ -eq 'Connect-CrmOnline' | Should -BeTrue
    }

    It '<Name> supports -WhatIf and -Confirm (ConfirmImpact <Impact>)' -ForEach @(
        @{ Name = 'Set-CrmDefaultEmailServerProfile'; Impact = 'Medium' }
        @{ Name = 'Set-CrmMailboxDefaults'; Impact = 'Medium' }
        @{ Name = 'Set-CrmMailbox'; Impact = 'Medium' }
        @{ Name = 'Approve-CrmMailbox'; Impact = 'Medium' }
        @{ Name = 'Deny-CrmMailbox'; Impact = 'High' }
        @{ Name = 'Enable-CrmMailbox'; Impact = 'Medium' }
        @{ Name = 'Invoke-CrmExchangeOnlineSetup'; Impact = 'Medium' }
        @{ Name = 'Repair-CrmMailbox'; Impact = 'Medium' }
    ) {
        $command = Get-Command -Name $Name -Module CrmServerSideSync
        $command.Parameters.ContainsKey('WhatIf') | Should -BeTrue
        $command.Parameters.ContainsKey('Confirm') | Should -BeTrue
        $binding = $command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] }
        $binding.SupportsShouldProcess | Should -BeTrue
        [string]$binding.ConfirmImpact | Should -Be $Impact
    }

    It 'the bulk cmdlets take mailboxes from the pipeline by property name' -ForEach @('Set-CrmMailbox', 'Approve-CrmMailbox', 'Deny-CrmMailbox', 'Enable-CrmMailbox', 'Get-CrmMailboxAlert', 'Invoke-CrmExchangeOnlineSetup', 'Get-CrmMailboxHealth', 'Repair-CrmMailbox') {
        $parameter = (Get-Command -Name $_ -Module CrmServerSideSync).Parameters['MailboxId']
        $parameter | Should -Not -BeNullOrEmpty
        @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipelineByPropertyName }).Count | Should -BeGreaterThan 0
    }

    It 'loaded the native library with the expected ABI version' {
        [CrmSync.Interop.Native]::IsLoaded | Should -BeTrue
        [CrmSync.Interop.Native]::AbiVersion | Should -Be 1
        [CrmSync.Interop.Native]::LoadedPath | Should -Match 'crmsync'
    }

    It 'converts snake_case keys to PascalCase with one helper' {
        InModuleScope CrmServerSideSync {
            ConvertTo-CrmPascalName -Name 'mailbox_id' | Should -BeExactly 'MailboxId'
            ConvertTo-CrmPascalName -Name 'approved_by_o365_admin' | Should -BeExactly 'ApprovedByO365Admin'
            $o = '{"version":1,"is_exchange_online":true,"nested":{"server_type_name":"x"}}' | ConvertFrom-Json | ConvertTo-CrmPascalObject -TypeName 'T.X'
            $o.IsExchangeOnline | Should -BeTrue
            $o.Nested.ServerTypeName | Should -Be 'x'
            $o.PSObject.Properties.Name | Should -Not -Contain 'Version'
            $o.PSTypeNames | Should -Contain 'T.X'
        }
    }

    It 'maps status <Status> (HTTP <Http>) to <Category>' -ForEach @(
        @{ Status = 'Authentication'; Code = 7; Http = 401; Category = 'AuthenticationError' }
        @{ Status = 'PermissionDenied'; Code = 16; Http = 403; Category = 'PermissionDenied' }
        @{ Status = 'Service'; Code = 8; Http = 403; Category = 'PermissionDenied' }
        @{ Status = 'NotFound'; Code = 9; Http = 404; Category = 'ObjectNotFound' }
        @{ Status = 'InvalidArgument'; Code = 4; Http = $null; Category = 'InvalidArgument' }
        @{ Status = 'InvalidJson'; Code = 3; Http = $null; Category = 'InvalidArgument' }
        @{ Status = 'Transport'; Code = 6; Http = $null; Category = 'ConnectionError' }
        @{ Status = 'Throttled'; Code = 14; Http = 429; Category = 'LimitsExceeded' }
    ) {
        $httpJson = 'null'
        if ($null -ne $Http) { $httpJson = [string]$Http }
        $json = '{"version":1,"status":"' + $Status + '","status_code":' + $Code + ',"http_status":' + $httpJson + ',"code":"0x80040220","message":"It failed.","remedy":"Do this."}'
        $ex = New-Object CrmSync.Interop.CrmSyncException ([CrmSync.Interop.CrmSyncStatus]$Code, $json, 'It failed.')
        $record = InModuleScope CrmServerSideSync -Parameters @{ Ex = $ex } { param($Ex) New-CrmErrorRecord -Exception $Ex -TargetObject 'item-1' }
        $record.CategoryInfo.Category | Should -Be $Category
        $record.FullyQualifiedErrorId | Should -Be "CrmSync.$Status.0x80040220"
        $record.TargetObject | Should -Be 'item-1'
        $record.ErrorDetails.Message | Should -Match 'It failed\.'
        $record.ErrorDetails.Message | Should -Match 'Do this\.'
    }
}

Describe 'Native library checks at import' {
    BeforeAll {
        $importScript = @"
`$ErrorActionPreference = 'Stop'
try {
    Import-Module '$($ModuleManifest -replace "'", "''")' -ErrorAction Stop
    'IMPORTED'
}
catch {
    'IMPORT FAILED: ' + `$_.Exception.Message
    exit 3
}
"@
    }

    It 'refuses a file that is not a library, saying what was found, expected and what to do' {
        $fake = Join-Path $TestDrive 'not-a-library.so'
        Set-Content -Path $fake -Value 'this is not a shared library'
        $result = Invoke-ChildPowerShell -Script $importScript -Environment @{ CRMSYNC_NATIVE_PATH = $fake }
        $result.ExitCode | Should -Be 3
        $result.Output | Should -Match 'IMPORT FAILED'
        $result.Output | Should -Match ([regex]::Escape($fake))
        $result.Output | Should -Match 'Expected: crmsync ABI version 1'
        $result.Output | Should -Match 'CRMSYNC_NATIVE_PATH'
        $result.Output | Should -Match 'build\.ps1 -Task Build'
    }

    It 'refuses a missing library file' {
        $missing = Join-Path $TestDrive 'does-not-exist/libcrmsync.so'
        $result = Invoke-ChildPowerShell -Script $importScript -Environment @{ CRMSYNC_NATIVE_PATH = $missing }
        $result.ExitCode | Should -Be 3
        $result.Output | Should -Match 'does not exist'
        $result.Output | Should -Match 'build\.ps1 -Task Build'
    }

    It 'refuses a library with another ABI version' {
        $cc = Get-Command cc -ErrorAction SilentlyContinue
        if ($null -eq $cc -or [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
            Set-ItResult -Skipped -Because 'a C compiler (cc) is needed to build a fake library'
            return
        }
        $source = Join-Path $TestDrive 'fake.c'
        Set-Content -Path $source -Value 'unsigned int crmsync_abi_version(void) { return 999; }'
        $library = Join-Path $TestDrive 'libfakecrmsync.so'
        if ($IsMacOS) { $library = Join-Path $TestDrive 'libfakecrmsync.dylib' }
        & $cc.Source -shared -fPIC -o $library $source
        $LASTEXITCODE | Should -Be 0
        $result = Invoke-ChildPowerShell -Script $importScript -Environment @{ CRMSYNC_NATIVE_PATH = $library }
        $result.ExitCode | Should -Be 3
        $result.Output | Should -Match 'different ABI version'
        $result.Output | Should -Match 'Expected: crmsync ABI version 1'
        $result.Output | Should -Match 'Found: ABI version 999'
    }
}

Describe 'Importing the module twice' {
    It 'imports again (also with -Force) in the same session and still works' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($ModuleManifest -replace "'", "''")'
Import-Module '$($ModuleManifest -replace "'", "''")'
Import-Module '$($ModuleManifest -replace "'", "''")' -Force
`$module = @(Get-Module CrmServerSideSync)
'MODULES=' + `$module.Count
'COMMANDS=' + @(Get-Command -Module CrmServerSideSync).Count
try { Get-CrmOrganization -ErrorAction Stop } catch { 'NOTCONNECTED=' + (`$_.Exception.Message -match 'Connect-CrmOnline') }
"@
        $result = Invoke-ChildPowerShell -Script $script
        $result.ExitCode | Should -Be 0
        $result.Output | Should -Match 'MODULES=1'
        $result.Output | Should -Not -Match 'COMMANDS=0'
        $result.Output | Should -Match 'NOTCONNECTED=True'
    }
}
