function Invoke-CrmNativeCall {
    <#
    .SYNOPSIS
    Runs one synchronous method of the native client (CrmSync.Interop.CrmClient) and returns its
    JSON result as an object; a failure becomes the calling cmdlet's terminating error.
    .PARAMETER Method
    The CrmClient method, for example GetReadiness or SetMailboxDefaults.
    .PARAMETER Request
    The request JSON, for methods that take one.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [string] $Method,
        [string] $Request,
        [AllowNull()] [object] $TargetObject
    )
    if ($null -eq $TargetObject) { $TargetObject = $Connection.Url }
    try {
        if ($PSBoundParameters.ContainsKey('Request')) {
            Write-Verbose "$Method on $($Connection.Url): $Request"
            $json = $Connection.Client.$Method($Request)
        }
        else {
            Write-Verbose "$Method on $($Connection.Url)"
            $json = $Connection.Client.$Method()
        }
    }
    catch {
        $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject))
    }
    $json | ConvertFrom-Json
}
