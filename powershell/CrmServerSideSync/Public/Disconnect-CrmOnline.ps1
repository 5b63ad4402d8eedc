function Disconnect-CrmOnline {
    <#
    .SYNOPSIS
    Closes a connection made with Connect-CrmOnline.

    .DESCRIPTION
    Frees the native client of the connection (the default connection when -Connection is not
    given) and, when it is the module's default connection, clears the default. Running it when
    nothing is connected does nothing.

    .PARAMETER Connection
    The connection to close. Defaults to the module's default connection.

    .EXAMPLE
    Disconnect-CrmOnline

    Closes the default connection.

    .EXAMPLE
    $c = Connect-CrmOnline -Url https://contoso.crm.dynamics.com -AccessToken $token
    Disconnect-CrmOnline -Connection $c

    Closes a specific connection.
    #>
    [CmdletBinding()]
    [OutputType([void])]
    param(
        [Parameter(ValueFromPipeline)]
        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    process {
        $target = $Connection
        if ($null -eq $target) { $target = $script:DefaultConnection }
        if ($null -eq $target) {
            Write-Verbose 'Not connected: nothing to disconnect.'
            return
        }
        if ($null -ne $target.Client) { $target.Client.Dispose() }
        $default = $script:DefaultConnection
        if ($null -ne $default -and [object]::ReferenceEquals($default.Client, $target.Client)) {
            $script:DefaultConnection = $null
        }
        Write-Verbose "Disconnected from $($target.Url)."
    }
}
