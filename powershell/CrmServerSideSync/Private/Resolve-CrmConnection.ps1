function Resolve-CrmConnection {
    <#
    .SYNOPSIS
    Returns the connection to use: the one given, else the module default; otherwise throws the
    caller's terminating "Not connected" error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [object] $Connection
    )

    if ($null -eq $Connection) { $Connection = $script:DefaultConnection }
    if ($null -eq $Connection) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.InvalidOperationException ('Not connected: run Connect-CrmOnline first.')),
            'CrmSync.NotConnected', [System.Management.Automation.ErrorCategory]::ConnectionError, $null)
        $Cmdlet.ThrowTerminatingError($record)
    }
    if ($null -eq $Connection.PSObject.Properties['Client'] -or $null -eq $Connection.Client -or $Connection.Client.IsDisposed) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ObjectDisposedException ('CrmServerSideSync.Connection', "The connection to $($Connection.Url) was closed by Disconnect-CrmOnline: run Connect-CrmOnline again.")),
            'CrmSync.ConnectionClosed', [System.Management.Automation.ErrorCategory]::ConnectionError, $Connection)
        $Cmdlet.ThrowTerminatingError($record)
    }
    $Connection
}
