function Read-CrmHealthBaseline {
    <#
    .SYNOPSIS
    The -Baseline of Get-CrmMailboxHealth as the library's baseline rows [{mailbox_id, health}].
    .DESCRIPTION
    Accepts a previous result (MailboxHealth rows, or any objects with MailboxId and Health), or
    the path of a file exported from one: .json (ConvertTo-Json) or .csv (Export-Csv). Rows
    without a MailboxId or Health are refused, so a wrong file never passes as "nothing changed".
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [object[]] $Baseline,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet
    )
    $rows = @($Baseline)
    if ($rows.Count -eq 1 -and $rows[0] -is [string]) {
        $path = [string]$rows[0]
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
            $Cmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord (
                        (New-Object System.IO.FileNotFoundException ("The baseline file '$path' does not exist.")), 'CrmSync.BaselineNotFound',
                        [System.Management.Automation.ErrorCategory]::ObjectNotFound, $path)))
        }
        $rows = switch -Regex ([System.IO.Path]::GetExtension($path)) {
            '^\.json$' { @(Get-Content -LiteralPath $path -Raw | ConvertFrom-Json) }
            '^\.csv$' { @(Import-Csv -LiteralPath $path) }
            default {
                $Cmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord (
                            (New-Object System.ArgumentException ("The baseline '$path' is neither .json nor .csv: export the previous result with ConvertTo-Json or Export-Csv.")),
                            'CrmSync.BaselineFormat', [System.Management.Automation.ErrorCategory]::InvalidArgument, $path)))
            }
        }
    }
    foreach ($row in $rows) {
        if ($null -eq $row) { continue }
        $id = $null; $health = $null
        if ($row.PSObject.Properties['MailboxId']) { $id = [string]$row.MailboxId }
        if ($row.PSObject.Properties['Health']) { $health = [string]$row.Health }
        if ([string]::IsNullOrWhiteSpace($id) -or [string]::IsNullOrWhiteSpace($health)) {
            $Cmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord (
                        (New-Object System.ArgumentException ('A baseline row has no MailboxId or Health: pass a previous Get-CrmMailboxHealth result or its exported JSON/CSV.')),
                        'CrmSync.BaselineRow', [System.Management.Automation.ErrorCategory]::InvalidData, $row)))
        }
        [ordered]@{ mailbox_id = $id; health = $health }
    }
}
