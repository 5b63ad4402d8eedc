function Assert-CrmNonProductionGuard {
    <#
    .SYNOPSIS
    The setup's guard for non-production environments: -SyncWithThisOrgOnly (marking mailboxes
    organization-primary) is refused, before anything is written, when an environment is
    non-production, unless -Force.
    .DESCRIPTION
    An environment's type is -Environment when given (it overrides everything), else the
    connection's EnvironmentType (from Connect-CrmOnline -EnvironmentType, or from the discovery
    service when Get-CrmEnvironment was piped into Connect-CrmOnline). A connection whose
    discovery OrganizationType names no environment type gets a warning asking for -Environment:
    the guard cannot apply to it. A connection without any type is treated as production, as before.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object[]] $Connections,
        [AllowEmptyString()] [string] $Environment
    )
    $nonProduction = @(foreach ($c in $Connections) {
            $name = Get-CrmEnvironmentName -Connection $c
            $type = $Environment
            if ([string]::IsNullOrEmpty($type) -and $c.PSObject.Properties['EnvironmentType']) { $type = [string]$c.EnvironmentType }
            if ([string]::IsNullOrEmpty($type) -and $c.PSObject.Properties['OrganizationType'] -and $null -ne $c.OrganizationType) {
                Write-Warning "${name}: the discovery service gives OrganizationType $($c.OrganizationType), which names no environment type, so the non-production guard cannot tell whether it is production. Pass -Environment (Production, Sandbox, Developer, Trial or Default)."
            }
            if (-not [string]::IsNullOrEmpty($type) -and $type -ne 'Production') { "$name ($type)" }
        })
    if ($nonProduction.Count -eq 0) { return }
    $record = New-Object System.Management.Automation.ErrorRecord (
        (New-Object System.InvalidOperationException ("Non-production environment(s): $($nonProduction -join ', '). The setup does not mark their mailboxes organization-primary (-SyncWithThisOrgOnly), which would take their appointments, contacts and tasks away from production. Nothing was changed.")),
        'CrmSync.NonProductionPrimary', [System.Management.Automation.ErrorCategory]::InvalidOperation, $nonProduction)
    $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($record.Exception.Message)
    $record.ErrorDetails.RecommendedAction = 'Leave out -SyncWithThisOrgOnly, turn synchronization off with Disable-CrmServerSideSync, or add -Force if this environment really should own the mailboxes.'
    $Cmdlet.ThrowTerminatingError($record)
}
