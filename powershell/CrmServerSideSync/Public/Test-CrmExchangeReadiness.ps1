function Test-CrmExchangeReadiness {
    <#
    .SYNOPSIS
    Checks that the organization and the caller are ready to connect Dynamics 365 to Exchange Online.

    .DESCRIPTION
    Runs the preflight checks of the "Get Exchange ready" step: the connection and caller, the
    privileges each later step needs, the "Microsoft Exchange Online" email server profile, the
    organization's email processing and approval settings. Returns one object per check with its
    Status (Pass, Warning or Fail), a message and, when it is not a pass, the remedy. Nothing is
    changed.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Test-CrmExchangeReadiness

    Lists every check with its status.

    .EXAMPLE
    Test-CrmExchangeReadiness | Where-Object Status -ne 'Pass' | Format-List Check, Message, Remedy

    Shows only what needs attention, with what to do about it.

    .OUTPUTS
    CrmServerSideSync.ReadinessCheck
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.ReadinessCheck')]
    param(
        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    $result = Invoke-CrmNativeCall -Cmdlet $PSCmdlet -Connection $conn -Method 'GetReadiness'
    foreach ($check in @($result.checks)) {
        if ($null -ne $check) { ConvertTo-CrmReadinessCheck -Check $check }
    }
}
