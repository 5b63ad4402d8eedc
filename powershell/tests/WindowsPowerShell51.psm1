# Finds syntax and APIs that Windows PowerShell 5.1 lacks in PowerShell source, from its AST.
# Used by WindowsPowerShell51.Tests.ps1 (which tests the checker on a sample of every rule first).
#
# The rule list comes from Microsoft's "Differences between Windows PowerShell 5.1 and PowerShell 7.x"
# (learn.microsoft.com/powershell/scripting/whats-new/differences-from-windows-powershell, source
# MicrosoftDocs/PowerShell-Docs reference/docs-conceptual/whats-new/differences-from-windows-powershell.md,
# ms.date 02/04/2026): "Language changes" (??, ??=, ?. and ?[], & for job control), "New cmdlets"
# (Get-Uptime, Remove-Alias, Remove-Service, the Markdown cmdlets, Test-Json, the ExperimentalFeature
# cmdlets, Join-String, Get-Error), "Cmdlet changes" (ForEach-Object -Parallel, Where-Object -Not,
# Get-PfxCertificate -Password, -AsByteStream instead of -Encoding Byte, Import-Module
# -UseWindowsPowerShell), "Implement Unicode escape parsing" (`u{...}), ".NET Framework vs .NET Core"
# (types that only .NET Core has). Not in that article but in the "What's New in PowerShell" pages it
# links: the ternary operator and the && / || pipeline chain operators (7.0), the clean block (7.3),
# ConvertFrom-Json -AsHashtable (6.0), -Depth (6.2), -NoEnumerate (7.0), -DateKind (7.5),
# ConvertTo-Json -AsArray (6.2) and -EscapeHandling (6.2), the automatic variables $IsWindows, $IsLinux,
# $IsMacOS, $IsCoreCLR (6.0) and $PSStyle (7.2), which are undefined in 5.1 (an error under
# Set-StrictMode) unless guarded by a PSEdition check or Test-Path variable:.
Set-StrictMode -Version 2.0

$script:NewCommands = @(
    'Get-Uptime', 'Remove-Alias', 'Remove-Service', 'ConvertFrom-Markdown', 'Get-MarkdownOption', 'Set-MarkdownOption',
    'Show-Markdown', 'Test-Json', 'Disable-ExperimentalFeature', 'Enable-ExperimentalFeature', 'Get-ExperimentalFeature',
    'Join-String', 'Get-Error', 'Start-ThreadJob'
)

# Command => parameters 5.1 does not have (matched by unambiguous prefix, as PowerShell binds them).
$script:NewParameters = @{
    'ForEach-Object'     = @('Parallel', 'ThrottleLimit', 'AsJob', 'UseNewRunspace', 'TimeoutSeconds')
    'Where-Object'       = @('Not')
    'ConvertFrom-Json'   = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
    'ConvertTo-Json'     = @('AsArray', 'EscapeHandling')
    'Get-PfxCertificate' = @('Password', 'NoPromptForPassword')
    'Get-Content'        = @('AsByteStream')
    'Set-Content'        = @('AsByteStream')
    'Add-Content'        = @('AsByteStream')
    'Import-Module'      = @('UseWindowsPowerShell', 'SkipEditionCheck')
    'Get-Module'         = @('SkipEditionCheck')
    'Start-Job'          = @('WorkingDirectory')
}
# All parameters each of those commands has in PowerShell 7, to tell a prefix that is unambiguous there.
$script:AllParameters = @{
    'ForEach-Object'     = @('Begin', 'Process', 'End', 'RemainingScripts', 'InputObject', 'MemberName', 'ArgumentList', 'Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace', 'WhatIf', 'Confirm')
    'Where-Object'       = @('InputObject', 'FilterScript', 'Property', 'Value', 'Not', 'EQ', 'CEQ', 'NE', 'CNE', 'GT', 'CGT', 'LT', 'CLT', 'GE', 'CGE', 'LE', 'CLE', 'Like', 'CLike', 'NotLike', 'CNotLike', 'Match', 'CMatch', 'NotMatch', 'CNotMatch', 'Contains', 'CContains', 'NotContains', 'CNotContains', 'In', 'CIn', 'NotIn', 'CNotIn', 'Is', 'IsNot')
    'ConvertFrom-Json'   = @('InputObject', 'AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
    'ConvertTo-Json'     = @('InputObject', 'Depth', 'Compress', 'EnumsAsStrings', 'AsArray', 'EscapeHandling')
    'Get-PfxCertificate' = @('FilePath', 'LiteralPath', 'Password', 'NoPromptForPassword')
    'Get-Content'        = @('ReadCount', 'TotalCount', 'Tail', 'Path', 'LiteralPath', 'Filter', 'Include', 'Exclude', 'Force', 'Credential', 'Delimiter', 'Wait', 'Raw', 'Encoding', 'AsByteStream', 'Stream')
    'Set-Content'        = @('Path', 'LiteralPath', 'Value', 'PassThru', 'Filter', 'Include', 'Exclude', 'Force', 'Credential', 'WhatIf', 'Confirm', 'NoNewline', 'Encoding', 'AsByteStream', 'Stream')
    'Add-Content'        = @('Path', 'LiteralPath', 'Value', 'PassThru', 'Filter', 'Include', 'Exclude', 'Force', 'Credential', 'WhatIf', 'Confirm', 'NoNewline', 'Encoding', 'AsByteStream', 'Stream')
    'Import-Module'      = @('Global', 'Prefix', 'Name', 'FullyQualifiedName', 'Assembly', 'Function', 'Cmdlet', 'Variable', 'Alias', 'Force', 'SkipEditionCheck', 'PassThru', 'AsCustomObject', 'MinimumVersion', 'MaximumVersion', 'RequiredVersion', 'ModuleInfo', 'ArgumentList', 'DisableNameChecking', 'NoClobber', 'Scope', 'PSSession', 'CimSession', 'CimResourceUri', 'CimNamespace', 'UseWindowsPowerShell')
    'Get-Module'         = @('Name', 'FullyQualifiedName', 'All', 'ListAvailable', 'PSEdition', 'SkipEditionCheck', 'Refresh', 'PSSession', 'CimSession', 'CimResourceUri', 'CimNamespace')
    'Start-Job'          = @('DefinitionName', 'DefinitionPath', 'Type', 'Name', 'ScriptBlock', 'Credential', 'Authentication', 'InitializationScript', 'WorkingDirectory', 'RunAs32', 'PSVersion', 'InputObject', 'ArgumentList', 'FilePath', 'LiteralPath')
}
$script:Aliases = @{ 'foreach' = 'ForEach-Object'; '%' = 'ForEach-Object'; 'where' = 'Where-Object'; '?' = 'Where-Object'; 'gc' = 'Get-Content'; 'sc' = 'Set-Content'; 'ac' = 'Add-Content'; 'ipmo' = 'Import-Module'; 'gmo' = 'Get-Module'; 'sajb' = 'Start-Job' }
$script:CoreVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle')
# .NET types that .NET Framework 4.x (the runtime of Windows PowerShell 5.1) does not have.
$script:CoreTypePrefixes = @('System.Text.Json', 'System.Net.Http.SocketsHttpHandler', 'System.Runtime.Intrinsics', 'System.Threading.Channels', 'System.Formats.', 'System.Half', 'System.DateOnly', 'System.TimeOnly', 'System.Index', 'System.Range', 'System.Management.Automation.Subsystem')

# `u{...} whose backtick is not itself escaped (``u{...} is the literal text).
$script:UnicodeEscape = '(^|[^`])(``)*`u\{[0-9a-fA-F]+\}'

function New-Finding([string] $Rule, [System.Management.Automation.Language.IScriptExtent] $Extent, [string] $File) {
    [pscustomobject]@{ Rule = $Rule; File = $File; Line = $Extent.StartLineNumber; Text = $Extent.Text }
}

function Test-GuardedCoreVariable([System.Management.Automation.Language.Ast] $Node) {
    # $IsWindows and friends are fine on the right of "-and" whose left side checks the edition
    # ($PSVersionTable.PSEdition) or the variable's existence (Test-Path variable:IsWindows).
    $child = $Node
    $parent = $Node.Parent
    while ($null -ne $parent) {
        if ($parent -is [System.Management.Automation.Language.BinaryExpressionAst] -and $parent.Operator -eq [System.Management.Automation.Language.TokenKind]::And -and $parent.Right -eq $child) {
            if ($parent.Left.Extent.Text -match 'PSEdition|variable:') { return $true }
        }
        $child = $parent
        $parent = $parent.Parent
    }
    $false
}

function Resolve-ParameterName([string] $Command, [string] $Written) {
    # The full name PowerShell would bind a (possibly abbreviated) parameter to, or $null.
    $all = $script:AllParameters[$Command]
    $exact = @($all | Where-Object { $_ -eq $Written })
    if ($exact.Count -eq 1) { return $exact[0] }
    $candidates = @($all | Where-Object { $_.StartsWith($Written, [System.StringComparison]::OrdinalIgnoreCase) })
    if ($candidates.Count -eq 1) { return $candidates[0] }
    $null
}

function Find-Ps51Incompatibility {
    <#
    .SYNOPSIS
    Lists the Windows PowerShell 5.1 incompatibilities of a script file (-Path) or script text (-ScriptText).
    .EXAMPLE
    Find-Ps51Incompatibility -ScriptText '$a ?? 1'
    .EXAMPLE
    Get-ChildItem -Recurse -Include *.ps1 | ForEach-Object { Find-Ps51Incompatibility -Path $_.FullName }
    #>
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Path')] [string] $Path,
        [Parameter(Mandatory, ParameterSetName = 'Text')] [string] $ScriptText
    )
    $tokens = $null
    $errors = $null
    if ($PSCmdlet.ParameterSetName -eq 'Path') {
        $file = $Path
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
    }
    else {
        $file = '<text>'
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($ScriptText, [ref]$tokens, [ref]$errors)
    }
    # A parse error is an incompatibility too (under Windows PowerShell 5.1 every new operator is one).
    foreach ($e in @($errors)) { New-Finding -Rule 'ParseError' -Extent $e.Extent -File $file }

    $nodes = $ast.FindAll({ $true }, $true)
    foreach ($node in $nodes) {
        $type = $node.GetType().Name
        switch ($type) {
            'TernaryExpressionAst' { New-Finding -Rule 'Ternary' -Extent $node.Extent -File $file }
            'PipelineChainAst' { New-Finding -Rule 'PipelineChain' -Extent $node.Extent -File $file }
            'BinaryExpressionAst' {
                if ([string]$node.Operator -eq 'QuestionQuestion') { New-Finding -Rule 'NullCoalescing' -Extent $node.Extent -File $file }
            }
            'AssignmentStatementAst' {
                if ([string]$node.Operator -eq 'QuestionQuestionEquals') { New-Finding -Rule 'NullCoalescingAssignment' -Extent $node.Extent -File $file }
            }
            { $_ -eq 'MemberExpressionAst' -or $_ -eq 'InvokeMemberExpressionAst' -or $_ -eq 'IndexExpressionAst' } {
                if ($node.PSObject.Properties['NullConditional'] -and $node.NullConditional) { New-Finding -Rule 'NullConditional' -Extent $node.Extent -File $file }
            }
            'PipelineAst' {
                if ($node.PSObject.Properties['Background'] -and $node.Background) { New-Finding -Rule 'BackgroundOperator' -Extent $node.Extent -File $file }
            }
            'ScriptBlockAst' {
                if ($node.PSObject.Properties['CleanBlock'] -and $null -ne $node.CleanBlock) { New-Finding -Rule 'CleanBlock' -Extent $node.CleanBlock.Extent -File $file }
            }
            'VariableExpressionAst' {
                $name = $node.VariablePath.UserPath
                if ($script:CoreVariables -contains $name -and -not (Test-GuardedCoreVariable -Node $node)) { New-Finding -Rule 'CoreOnlyVariable' -Extent $node.Extent -File $file }
            }
            { $_ -eq 'TypeExpressionAst' -or $_ -eq 'TypeConstraintAst' } {
                $typeName = $node.TypeName.FullName
                foreach ($prefix in $script:CoreTypePrefixes) {
                    if ($typeName.StartsWith($prefix, [System.StringComparison]::OrdinalIgnoreCase)) { New-Finding -Rule 'CoreOnlyType' -Extent $node.Extent -File $file }
                }
            }
            'ExpandableStringExpressionAst' {
                if ($node.Extent.Text -match $script:UnicodeEscape) { New-Finding -Rule 'UnicodeEscape' -Extent $node.Extent -File $file }
            }
            'StringConstantExpressionAst' {
                if ([string]$node.StringConstantType -eq 'DoubleQuoted' -and $node.Extent.Text -match $script:UnicodeEscape) { New-Finding -Rule 'UnicodeEscape' -Extent $node.Extent -File $file }
            }
            'CommandAst' {
                $commandName = $node.GetCommandName()
                if ($null -eq $commandName) { break }
                if ($script:Aliases.ContainsKey($commandName)) { $commandName = $script:Aliases[$commandName] }
                $known = @($script:NewCommands | Where-Object { $_ -eq $commandName })
                if ($known.Count -gt 0) { New-Finding -Rule "NewCommand:$($known[0])" -Extent $node.Extent -File $file }
                $canonical = @($script:NewParameters.Keys | Where-Object { $_ -eq $commandName })
                if ($canonical.Count -eq 0) { break }
                foreach ($element in $node.CommandElements) {
                    if ($element -isnot [System.Management.Automation.Language.CommandParameterAst]) { continue }
                    $full = Resolve-ParameterName -Command $canonical[0] -Written $element.ParameterName
                    if ($null -ne $full -and $script:NewParameters[$canonical[0]] -contains $full) {
                        New-Finding -Rule "NewParameter:$($canonical[0]) -$full" -Extent $element.Extent -File $file
                    }
                }
            }
        }
    }
}

Export-ModuleMember -Function Find-Ps51Incompatibility
