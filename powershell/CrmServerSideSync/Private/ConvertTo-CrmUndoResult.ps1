function ConvertTo-CrmUndoResult {
    <#
    .SYNOPSIS
    One "item" event of crmsync_changes_undo_start as a CrmServerSideSync.UndoResult: the journal
    line, its environment and row, what happened (Restored, Planned, Unchanged, Skipped,
    NotUndoable, Failed, Unreadable) and why.
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.UndoResult')]
    param([Parameter(Mandatory)] [object] $ItemEvent)
    $field = { param($name) if ($ItemEvent.PSObject.Properties[$name]) { $ItemEvent.$name } else { $null } }
    $environment = & $field 'environment'
    $columns = @(foreach ($c in @(& $field 'columns')) {
            if ($null -eq $c) { continue }
            $to = $c.to
            if ($c.PSObject.Properties['to_name'] -and $null -ne $c.to_name) { $to = $c.to_name }
            '{0}: {1} -> {2}' -f $c.column, (Format-CrmValue $c.from), (Format-CrmValue $to)
        })
    $errorText = $null
    $errorDocument = & $field 'error'
    if ($null -ne $errorDocument) { $errorText = [string]$errorDocument.message }
    [pscustomobject][ordered]@{
        PSTypeName   = 'CrmServerSideSync.UndoResult'
        Line         = [int](& $field 'line')
        Outcome      = [string](& $field 'outcome')
        Organization = $(if ($null -ne $environment) { [string]$environment.name } else { $null })
        Url          = $(if ($null -ne $environment) { [string]$environment.url } else { $null })
        Table        = [string](& $field 'table')
        RowId        = [string](& $field 'key')
        Name         = [string](& $field 'name')
        Step         = [string](& $field 'step')
        WrittenAt    = [string](& $field 'written_at')
        Columns      = ($columns -join '; ')
        Reason       = [string](& $field 'reason')
        Note         = [string](& $field 'note')
        Error        = $errorText
    }
}
