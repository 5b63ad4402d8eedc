function Test-CrmConfirmPrompt {
    <#
    .SYNOPSIS
    True when ShouldProcess would ask the user: -Confirm, or $ConfirmPreference at or below the
    command's ConfirmImpact. ($ConfirmPreference is read through the caller's scope, where -Confirm
    sets it.)
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory)] [System.Management.Automation.ConfirmImpact] $ConfirmImpact)
    $preference = [System.Management.Automation.ConfirmImpact]$ConfirmPreference
    if ($preference -eq [System.Management.Automation.ConfirmImpact]::None) { return $false }
    [int]$ConfirmImpact -ge [int]$preference
}
