function Undo-CrmChange {
    <#
    .SYNOPSIS
    Writes back the values a change journal recorded before crmsync changed them, newest change
    first, in every environment of the journal.

    .DESCRIPTION
    The writing cmdlets append one JSON line per row they wrote to the file given with
    -JournalPath (the table, the row, each column's value before and after, the environment).
    Undo-CrmChange reads that file and, per environment, goes through its lines in reverse order:
    each row is read again and its before values are written back only when it still holds what
    crmsync wrote. A row changed since (by a person, a flow or a later run) is left alone and
    reported as Skipped with the reason; a warning says so.

    Each line goes through the connection of its environment: give one connection per environment
    with -Connection (from Connect-CrmOnline); without it the default connection is used. Lines of
    an environment without a connection are reported as an error and left alone.

    What cannot be undone is said: a Test & Enable already ran (its statuses, alerts and the
    Exchange side's choice of environment stay) is reported as NotUndoable; undoing an approval
    writes the approval status back but not the approved-by/on audit columns.

    -WhatIf writes nothing and lists what would be restored.

    .PARAMETER JournalPath
    The change journal (JSON lines) written by -JournalPath of a writing cmdlet.

    .PARAMETER Connection
    One connection per environment of the journal. Defaults to the connection of the last Connect-CrmOnline.
    The environments are undone concurrently, each through its own connection; within one
    environment the lines go newest first. One environment failing is reported for it (a
    non-terminating error) and does not stop the others.

    .PARAMETER ThrottleLimit
    How many environments are undone at once (default 4).

    .EXAMPLE
    Invoke-CrmExchangeOnlineSetup -JournalPath ./setup.jsonl -Confirm:$false
    Undo-CrmChange -JournalPath ./setup.jsonl -WhatIf
    Undo-CrmChange -JournalPath ./setup.jsonl -Confirm:$false

    Runs the setup with a journal, shows what undoing it would write back, then undoes it.

    .EXAMPLE
    $prod = Connect-CrmOnline -Url https://contoso.crm.dynamics.com -ManagedIdentity
    $test = Connect-CrmOnline -Url https://contoso-test.crm.dynamics.com -ManagedIdentity
    Undo-CrmChange -JournalPath ./run.jsonl -Connection $prod, $test | Where-Object Outcome -ne Restored

    Undoes a run that changed two environments and lists every line that was not restored, with why.

    .OUTPUTS
    CrmServerSideSync.UndoResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('CrmServerSideSync.UndoResult')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $JournalPath,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object[]] $Connection,

        [ValidateRange(1, 64)]
        [int] $ThrottleLimit = 4
    )
    $path = Resolve-CrmJournalPath -Cmdlet $PSCmdlet -Path $JournalPath
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.IO.FileNotFoundException ("The change journal '$path' does not exist.")),
            'CrmSync.JournalNotFound', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $path)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $connections = @(Resolve-CrmConnectionSet -Cmdlet $PSCmdlet -Connection $Connection)

    # The environments of the journal, to find the lines no connection can undo.
    $environments = [ordered]@{}
    foreach ($text in [System.IO.File]::ReadAllLines($path)) {
        if ([string]::IsNullOrWhiteSpace($text)) { continue }
        try { $line = $text | ConvertFrom-Json } catch { continue }
        if ($null -eq $line -or -not $line.PSObject.Properties['environment'] -or $null -eq $line.environment) { continue }
        $url = ([string]$line.environment.url).TrimEnd('/')
        if (-not $environments.Contains($url.ToLowerInvariant())) { $environments[$url.ToLowerInvariant()] = [pscustomobject]@{ Url = $url; Name = [string]$line.environment.name; Lines = 0 } }
        $environments[$url.ToLowerInvariant()].Lines++
    }
    $connected = @{}
    foreach ($c in $connections) { $connected[([string]$c.Url).TrimEnd('/').ToLowerInvariant()] = $c }
    foreach ($key in $environments.Keys) {
        if (-not $connected.ContainsKey($key)) {
            $e = $environments[$key]
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.InvalidOperationException ("$($e.Lines) journal line(s) of $($e.Name) ($($e.Url)) were not undone: no connection to that environment was given. Connect with Connect-CrmOnline -Url $($e.Url) and pass the connection with -Connection.")),
                'CrmSync.NoConnectionForEnvironment', [System.Management.Automation.ErrorCategory]::ConnectionError, $e)
            $PSCmdlet.WriteError($record)
        }
    }

    $whatIf = [bool]$WhatIfPreference
    $request = ConvertTo-CrmRequestJson -Document ([ordered]@{ journal_path = $path; what_if = $whatIf })
    $operations = @(foreach ($key in $environments.Keys) {
            if (-not $connected.ContainsKey($key)) { continue }
            $conn = $connected[$key]
            $target = "$(Get-CrmEnvironmentName -Connection $conn): changes of journal $path"
            if (-not $whatIf -and -not $PSCmdlet.ShouldProcess($target, 'Write back the values before crmsync changed them')) { continue }
            @{ Connection = $conn; Method = 'StartChangesUndo'; Request = $request; State = @{ Environment = (Get-CrmEnvironmentName -Connection $conn); NotUndoable = @{} } }
        })
    if ($operations.Count -eq 0) { return }
    # The environments are undone concurrently (each through its own connection and limits); the
    # native side goes through each environment's lines newest first. Unreadable lines belong to
    # no environment (every environment's operation sees them): each is reported once.
    $undoCmdlet = $PSCmdlet
    $unreadable = @{}
    Invoke-CrmOperationSet -Cmdlet $PSCmdlet -Operations $operations -Activity 'Undoing changes on' -ThrottleLimit $ThrottleLimit -OnEvent {
        param($entry, $evt)
        if ($evt.type -ne 'item') { return }
        $result = ConvertTo-CrmUndoResult -ItemEvent $evt
        if ($result.Outcome -eq 'Unreadable') {
            if ($unreadable.ContainsKey([string]$result.Line)) { return }
            $unreadable[[string]$result.Line] = $true
            Write-Warning "Journal line $($result.Line) was not undone: $($result.Reason)."
        }
        $label = "$($result.Table)($($result.RowId)) $($result.Name)".TrimEnd()
        switch ($result.Outcome) {
            'Planned' { [void]$undoCmdlet.ShouldProcess("$label in $($result.Organization)", "Write back $($result.Columns)") }
            'Restored' { Write-Verbose "${label}: restored $($result.Columns)." }
            'Skipped' { Write-Warning "${label} was not undone: $($result.Reason)." }
            'NotUndoable' { $entry.State.NotUndoable[$result.Step] = $result.Note }
            'Failed' { $undoCmdlet.WriteError((New-CrmItemErrorRecord -ErrorDocument $evt.error -TargetObject $result -Label $label)) }
            default { Write-Verbose "${label}: $($result.Outcome)." }
        }
        $result
    }
    foreach ($op in $operations) {
        $environment = $op.State.Environment
        if ($null -ne $op['Error']) {
            # One environment failing (unreachable, sign-in, privilege) does not stop the others.
            $PSCmdlet.WriteError((New-CrmEnvironmentErrorRecord -Record $op['Error'] -Environment $environment -TargetObject $op.Connection))
            continue
        }
        foreach ($step in $op.State.NotUndoable.Keys) { Write-Warning "${environment}: $step not undone: $($op.State.NotUndoable[$step])." }
        $summary = $op['Result']
        if ($null -ne $summary) {
            Write-Verbose ("${environment}: {0} restored, {1} planned, {2} already as before, {3} skipped (changed since), {4} not undoable, {5} failed." -f $summary.changed, $summary.planned, $summary.unchanged, $summary.skipped, $summary.not_undoable, $summary.failed)
        }
    }
}
