function ConvertTo-CrmReadinessCheck {
    <# .SYNOPSIS A readiness check document (or a setup "check" event) as a CrmServerSideSync.ReadinessCheck object. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Check)
    $remedy = $null
    if ($Check.PSObject.Properties['remedy']) { $remedy = $Check.remedy }
    if ($Check.PSObject.Properties['hint'] -and $Check.hint) {
        $advice = Get-CrmPowerShellAdvice -Hint ([string]$Check.hint)
        if (-not [string]::IsNullOrEmpty($advice)) { $remedy = (([string]$remedy + ' ' + $advice).Trim()) }
    }
    [pscustomobject][ordered]@{
        PSTypeName = 'CrmServerSideSync.ReadinessCheck'
        Check      = [string]$Check.check
        Status     = [string]$Check.status
        Message    = [string]$Check.message
        Remedy     = $remedy
    }
}
