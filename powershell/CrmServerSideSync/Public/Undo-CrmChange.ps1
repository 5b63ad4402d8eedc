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
        [object[]] $Connection
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
    $reportedUnreadable = $false
    foreach ($key in $environments.Keys) {
        if (-not $connected.ContainsKey($key)) { continue }
        $conn = $connected[$key]
        $target = "$(Get-CrmEnvironmentName -Connection $conn): changes of journal $path"
        if (-not $whatIf -and -not $PSCmdlet.ShouldProcess($target, 'Write back the values before crmsync changed them')) { continue }
        $request = [ordered]@{ journal_path = $path; what_if = $whatIf }
        $summary = $null
        $notUndoable = @{}
        Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartChangesUndo' -Request (ConvertTo-CrmRequestJson -Document $request) -Activity "Undoing changes on $($conn.Url)" -Result ([ref]$summary) -TargetObject $target | ForEach-Object {
            if ($_.type -ne 'item') { return }
            $result = ConvertTo-CrmUndoResult -ItemEvent $_
            # Unreadable lines belong to no environment: every connection sees them, report them once.
            if ($result.Outcome -eq 'Unreadable') {
                if ($reportedUnreadable) { return }
                Write-Warning "Journal line $($result.Line) was not undone: $($result.Reason)."
            }
            $label = "$($result.Table)($($result.RowId)) $($result.Name)".TrimEnd()
            switch ($result.Outcome) {
                'Planned' { [void]$PSCmdlet.ShouldProcess("$label in $($result.Organization)", "Write back $($result.Columns)") }
                'Restored' { Write-Verbose "${label}: restored $($result.Columns)." }
                'Skipped' { Write-Warning "${label} was not undone: $($result.Reason)." }
                'NotUndoable' { $notUndoable[$result.Step] = $result.Note }
                'Failed' { $PSCmdlet.WriteError((New-CrmItemErrorRecord -ErrorDocument $_.error -TargetObject $result -Label $label)) }
                default { Write-Verbose "${label}: $($result.Outcome)." }
            }
            $result
        }
        if ($null -ne $summary -and [int]$summary.unreadable -gt 0) { $reportedUnreadable = $true }
        foreach ($step in $notUndoable.Keys) { Write-Warning "$($conn.OrganizationName): $step not undone: $($notUndoable[$step])." }
        if ($null -ne $summary) {
            Write-Verbose ("$($conn.Url): {0} restored, {1} planned, {2} already as before, {3} skipped (changed since), {4} not undoable, {5} failed." -f $summary.changed, $summary.planned, $summary.unchanged, $summary.skipped, $summary.not_undoable, $summary.failed)
        }
    }
}
