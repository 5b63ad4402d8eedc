# Email server profiles and mailboxes against the simulator, through the whole stack.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $sim = Start-TestSimulator
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $null = Connect-TestSimulator -Simulator $sim
    $exoName = 'Microsoft Exchange Online'
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
    Stop-DataverseSim -Simulator $sim
}

Describe 'Get-CrmEmailServerProfile' {
    It 'lists the seeded profiles' {
        $profiles = @(Get-CrmEmailServerProfile)
        $names = $profiles | ForEach-Object { $_.Name }
        $names | Should -Contain $exoName
        $names | Should -Contain 'Legacy POP3 Profile'
        $names | Should -Contain 'Exchange Hybrid (retired)'
        $profiles | ForEach-Object { $_.PSTypeNames | Should -Contain 'CrmServerSideSync.EmailServerProfile' }
    }

    It 'finds the Exchange Online profile by name and marks it IsExchangeOnline' {
        $found = @(Get-CrmEmailServerProfile -Name $exoName)
        $found.Count | Should -Be 1
        $found[0].Name | Should -BeExactly $exoName
        $found[0].IsExchangeOnline | Should -BeTrue
        $found[0].State | Should -Be 'Active'
        $found[0].ProfileId | Should -Match '^[0-9a-fA-F-]{36}$'
    }

    It 'reports the retired profile as inactive and not Exchange Online' {
        $retired = @(Get-CrmEmailServerProfile -Name 'Exchange Hybrid (retired)')
        $retired.Count | Should -Be 1
        $retired[0].State | Should -Be 'Inactive'
        $legacy = @(Get-CrmEmailServerProfile -Name 'Legacy POP3 Profile')
        $legacy[0].IsExchangeOnline | Should -BeFalse
    }

    It 'returns nothing, without error, for an unknown name' {
        @(Get-CrmEmailServerProfile -Name 'No such profile' -ErrorAction Stop).Count | Should -Be 0
    }

    It 'uses PascalCase property names only' {
        $p = Get-CrmEmailServerProfile -Name $exoName
        foreach ($name in $p.PSObject.Properties.Name) { $name | Should -Not -Match '_' }
        $p.PSObject.Properties.Name | Should -Contain 'IncomingCredentialRetrieval'
        $p.PSObject.Properties.Name | Should -Contain 'ServerTypeName'
    }

    It 'formats as a table' {
        (Get-CrmEmailServerProfile | Format-Table | Out-String) | Should -Match 'ExchangeOnline'
    }
}

Describe 'Get-CrmMailbox' {
    BeforeAll {
        $expected = $SimMailboxes + $SimQueues
        $all = @(Get-CrmMailbox -PageSize 7)
    }

    It 'returns exactly the seeded mailboxes across several pages' {
        $all.Count | Should -Be $expected
        @($all | ForEach-Object { $_.MailboxId } | Sort-Object -Unique).Count | Should -Be $expected
        @($all | Where-Object { $_.OwnerType -eq 'queue' }).Count | Should -Be $SimQueues
        @($all | Where-Object { $_.OwnerType -eq 'systemuser' }).Count | Should -Be $SimMailboxes
    }

    It 'reports the page count in verbose output' {
        $verbose = Get-CrmMailbox -PageSize 7 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { $_.Message }
        $pages = [int][math]::Ceiling($expected / 7)
        ($verbose -join "`n") | Should -Match "Listed $expected mailboxes in $pages pages"
    }

    It 'returns typed objects with PascalCase properties and readable option names' {
        $m = $all[0]
        $m.PSTypeNames | Should -Contain 'CrmServerSideSync.Mailbox'
        foreach ($name in 'MailboxId', 'Name', 'EmailAddress', 'OwnerId', 'OwnerType', 'IncomingEmail', 'OutgoingEmail', 'AppointmentsContactsTasks', 'ApprovalStatus', 'ApprovedByO365Admin', 'State') {
            $m.PSObject.Properties.Name | Should -Contain $name
        }
        foreach ($name in $m.PSObject.Properties.Name) { $name | Should -Not -Match '_' }
        $all | ForEach-Object { $_.IncomingEmail } | Should -BeIn @('None', 'Outlook', 'ServerSideSync', 'ForwardMailbox')
        $all | ForEach-Object { $_.State } | Should -BeIn @('Active', 'Inactive')
    }

    It 'finds "Liam O''Brien" by name (quotes are escaped)' {
        $liam = @(Get-CrmMailbox -Name "Liam O'Brien")
        $liam.Count | Should -Be 1
        $liam[0].Name | Should -BeExactly "Liam O'Brien"
    }

    It 'does not let a quoted name inject a filter' {
        @(Get-CrmMailbox -Name "x' or name ne 'y" -ErrorAction Stop).Count | Should -Be 0
        @(Get-CrmMailbox -Name "x`") or (name ne `"y" -ErrorAction Stop).Count | Should -Be 0
    }

    It 'finds a mailbox by email address' {
        $target = $all | Where-Object { $_.EmailAddress } | Select-Object -First 1
        $found = @(Get-CrmMailbox -EmailAddress $target.EmailAddress)
        $found.Count | Should -Be 1
        $found[0].MailboxId | Should -Be $target.MailboxId
    }

    It 'filters by server profile name and by id, and by the profile piped in' {
        $exo = Get-CrmEmailServerProfile -Name $exoName
        $byName = @(Get-CrmMailbox -ServerProfile $exoName)
        $byId = @(Get-CrmMailbox -ServerProfile $exo.ProfileId)
        $piped = @($exo | Get-CrmMailbox)
        $expectedIds = @($all | Where-Object { $_.ServerProfileId -eq $exo.ProfileId } | ForEach-Object { $_.MailboxId } | Sort-Object)
        $expectedIds.Count | Should -BeGreaterThan 0 -Because 'the seed puts a few mailboxes on the Exchange Online profile'
        @($byName | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be $expectedIds
        @($byId | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be $expectedIds
        @($piped | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be $expectedIds
        $byName | ForEach-Object { $_.ServerProfileName | Should -Be $exoName }
    }

    It 'stops early without error when the pipeline stops (Select-Object -First 3)' {
        $Error.Clear()
        $first = @(Get-CrmMailbox -PageSize 5 | Select-Object -First 3)
        $first.Count | Should -Be 3
        $Error.Count | Should -Be 0
        # The cancelled operation was freed and the connection still works.
        @(Get-CrmMailbox -PageSize 50).Count | Should -Be $expected
    }

    It 'uses an explicit connection' {
        $other = Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-reader')
        try {
            @(Get-CrmMailbox -Connection $other -PageSize 25).Count | Should -Be $expected
        }
        finally {
            Disconnect-CrmOnline -Connection $other
            $null = Connect-TestSimulator -Simulator $sim
        }
    }

    It 'formats as a table' {
        ($all | Select-Object -First 2 | Format-Table | Out-String) | Should -Match 'EmailAddress'
    }
}
