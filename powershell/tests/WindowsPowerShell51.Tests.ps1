# Windows PowerShell 5.1 compatibility of every PowerShell file that runs there: the module, the
# simulator helper, build.ps1 and the CI scripts. The checker (WindowsPowerShell51.psm1, whose header
# cites Microsoft's "Differences between Windows PowerShell 5.1 and PowerShell 7.x" for each rule) is
# first shown to catch a sample of every rule and to pass the 5.1 spellings of the same ideas.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Join-Path $PSScriptRoot 'WindowsPowerShell51.psm1') -Force
    # Under Windows PowerShell 5.1 itself, the new operators do not parse: a parse error is the finding.
    $script:ParseErrorCounts = $PSVersionTable.PSEdition -eq 'Desktop'
}
AfterAll {
    Remove-Module WindowsPowerShell51 -Force -ErrorAction SilentlyContinue
}

Describe 'The 5.1 checker' {
    It 'flags <Rule> in: <Text>' -ForEach @(
        @{ Rule = 'NullCoalescing'; Text = '$a = $b ?? 1' }
        @{ Rule = 'NullCoalescingAssignment'; Text = '$a ??= 1' }
        @{ Rule = 'NullConditional'; Text = '${a}?.Name' }
        @{ Rule = 'NullConditional'; Text = '${a}?[0]' }
        @{ Rule = 'NullConditional'; Text = '${a}?.ToString()' }
        @{ Rule = 'Ternary'; Text = '$a = $b ? 1 : 2' }
        @{ Rule = 'PipelineChain'; Text = 'Get-Item . && Write-Output ok' }
        @{ Rule = 'PipelineChain'; Text = 'Get-Item . || Write-Output failed' }
        @{ Rule = 'BackgroundOperator'; Text = 'Get-Process &' }
        @{ Rule = 'CleanBlock'; Text = 'function f { process { $_ } clean { "done" } }' }
        @{ Rule = 'NewParameter:ForEach-Object -Parallel'; Text = '1..3 | ForEach-Object -Parallel { $_ }' }
        @{ Rule = 'NewParameter:ForEach-Object -Parallel'; Text = '1..3 | % -Par { $_ } -ThrottleLimit 2' }
        @{ Rule = 'NewParameter:ConvertFrom-Json -AsHashtable'; Text = '$t | ConvertFrom-Json -AsHashtable' }
        @{ Rule = 'NewParameter:ConvertFrom-Json -Depth'; Text = '$t | ConvertFrom-Json -Depth 5' }
        @{ Rule = 'NewParameter:ConvertFrom-Json -NoEnumerate'; Text = '$t | ConvertFrom-Json -NoEnumerate' }
        @{ Rule = 'NewParameter:ConvertTo-Json -AsArray'; Text = '$o | ConvertTo-Json -AsArray' }
        @{ Rule = 'NewParameter:Where-Object -Not'; Text = 'Get-Service | Where-Object -Not DependentServices' }
        @{ Rule = 'NewParameter:Get-Content -AsByteStream'; Text = 'Get-Content -Path x -AsByteStream' }
        @{ Rule = 'NewParameter:Import-Module -UseWindowsPowerShell'; Text = 'Import-Module X -UseWindowsPowerShell' }
        @{ Rule = 'NewCommand:Join-String'; Text = '1..3 | Join-String -Separator ","' }
        @{ Rule = 'NewCommand:Test-Json'; Text = 'Test-Json -Json $t' }
        @{ Rule = 'NewCommand:Get-Error'; Text = 'Get-Error -Newest 1' }
        @{ Rule = 'NewCommand:Get-Uptime'; Text = 'Get-Uptime' }
        @{ Rule = 'NewCommand:Remove-Alias'; Text = 'Remove-Alias -Name x' }
        @{ Rule = 'NewCommand:Start-ThreadJob'; Text = 'Start-ThreadJob { 1 }' }
        @{ Rule = 'CoreOnlyVariable'; Text = 'if ($IsWindows) { 1 }' }
        @{ Rule = 'CoreOnlyVariable'; Text = 'if ($IsLinux -or $IsMacOS) { 1 }' }
        @{ Rule = 'CoreOnlyVariable'; Text = '$PSStyle.OutputRendering = "PlainText"' }
        @{ Rule = 'CoreOnlyType'; Text = '[System.Text.Json.JsonSerializer]::Serialize($o)' }
        @{ Rule = 'CoreOnlyType'; Text = 'function f([System.Text.Json.JsonDocument] $d) { }' }
        @{ Rule = 'UnicodeEscape'; Text = '"smile `u{1F600}"' }
    ) {
        $findings = @(Find-Ps51Incompatibility -ScriptText $Text)
        $accepted = @($Rule)
        if ($ParseErrorCounts) { $accepted += 'ParseError' }
        @($findings | Where-Object { $accepted -contains $_.Rule }).Count | Should -BeGreaterThan 0 -Because ("found: " + (($findings | ForEach-Object { $_.Rule }) -join ', '))
    }

    It 'passes the Windows PowerShell 5.1 spelling: <Text>' -ForEach @(
        @{ Text = 'if ($null -eq $b) { $a = 1 } else { $a = $b }' }
        @{ Text = 'if ($PSVersionTable.PSEdition -eq ''Core'' -and $IsWindows) { 1 }' }
        @{ Text = 'if ((Test-Path variable:IsMacOS) -and $IsMacOS) { 1 }' }
        @{ Text = '[System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT' }
        @{ Text = '$t | ConvertFrom-Json' }
        @{ Text = '$o | ConvertTo-Json -Depth 5 -Compress' }
        @{ Text = '1..3 | ForEach-Object -Process { $_ } -Begin { 0 }' }
        @{ Text = 'Get-Item . ; if ($?) { Write-Output ok }' }
        @{ Text = '$a -and $b -or $c' }
        @{ Text = 'Get-Content -Path x -Encoding Byte' }
        @{ Text = '''single-quoted `u{1F600}''; "escaped ``u{1F600}"' }
        @{ Text = '[System.Collections.Generic.List[string]]::new()' }
    ) {
        @(Find-Ps51Incompatibility -ScriptText $Text) | Should -BeNullOrEmpty
    }

    It 'reports a syntax error as ParseError' {
        (@(Find-Ps51Incompatibility -ScriptText 'function f( {')).Rule | Should -Contain 'ParseError'
    }
}

Describe 'Files that run under Windows PowerShell 5.1' {
    BeforeDiscovery {
        $root = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
        $files = @(Get-ChildItem -Path (Join-Path $root 'powershell/CrmServerSideSync') -Recurse -File -Include *.ps1, *.psm1, *.psd1)
        $files += Get-Item -LiteralPath (Join-Path $root 'crates/dataverse-sim/SimulatorHelper.psm1'), (Join-Path $root 'build.ps1')
        $files += @(Get-ChildItem -Path (Join-Path $root 'tools/ci') -Filter *.ps1 -File)
        $fileCases = @($files | ForEach-Object { @{ Path = $_.FullName; Name = $_.FullName.Substring($root.Length + 1).Replace('\', '/') } })
    }

    It 'includes every file of the module' {
        $moduleFiles = @(Get-ChildItem -Path (Join-Path $RepoRoot 'powershell/CrmServerSideSync') -Recurse -File -Include *.ps1, *.psm1, *.psd1)
        $moduleFiles.Count | Should -BeGreaterThan 20
    }

    It '<Name> uses nothing Windows PowerShell 5.1 lacks' -ForEach $fileCases {
        $findings = @(Find-Ps51Incompatibility -Path $Path)
        $findings | ForEach-Object { "$($_.Rule) at line $($_.Line): $($_.Text)" } | Should -BeNullOrEmpty
    }
}
