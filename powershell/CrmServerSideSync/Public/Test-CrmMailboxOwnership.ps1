function Test-CrmMailboxOwnership {
    <#
    .SYNOPSIS
    Reports every email address configured for server-side synchronization in more than one of the
    given environments, and which one holds the organization-primary flag.

    .DESCRIPTION
    One Exchange mailbox synchronizes with only one Dataverse environment: running Test & Enable
    for the same address in a second environment turns synchronization off in the first. This
    reads the mailboxes of every given environment (concurrently, one read per environment) and
    returns one CrmServerSideSync.MailboxOwnership per address that more than one environment has
    configured for server-side synchronization: the environments, the one(s) holding the
    organization-primary flag (orgmarkedasprimaryforexchangesync or isactsyncorgflagset), and the
    owners (primary, or Test & Enable succeeded). Nothing is written.

    Enable-CrmMailbox -OtherEnvironment and Invoke-CrmExchangeOnlineSetup with several connections
    refuse Test & Enable for an address another given environment owns, unless -Force.

    .PARAMETER Connection
    Two or more connections, one per environment (from Connect-CrmOnline -Url a,b,c).

    .EXAMPLE
    $all = Connect-CrmOnline -Url https://contoso.crm.dynamics.com, https://contoso-test.crm.dynamics.com -ManagedIdentity
    Test-CrmMailboxOwnership -Connection $all

    Lists the addresses both environments synchronize, and which one is primary for each.

    .EXAMPLE
    Test-CrmMailboxOwnership -Connection $all | Where-Object { $_.Primary.Count -ne 1 } | Export-Csv ownership.csv -NoTypeInformation

    Saves the addresses whose primary environment is missing or ambiguous.

    .OUTPUTS
    CrmServerSideSync.MailboxOwnership
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.MailboxOwnership')]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('CrmServerSideSync.Connection')]
        [object[]] $Connection
    )
    $connections = @($Connection | Where-Object { $null -ne $_ })
    if ($connections.Count -lt 2) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ArgumentException ('Give at least two connections (one per environment) to compare: Connect-CrmOnline -Url a,b returns them.')),
            'CrmSync.OneEnvironment', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Connection)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    foreach ($c in $connections) { [void](Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $c) }
    $owners = Get-CrmAddressOwner -Cmdlet $PSCmdlet -Connections $connections
    foreach ($key in @($owners.Keys | Sort-Object)) {
        $entry = $owners[$key]
        $environments = @($entry.Configured | Select-Object -Unique)
        if ($environments.Count -lt 2) { continue }
        $primary = @($entry.Primary | Select-Object -Unique)
        [pscustomobject][ordered]@{
            PSTypeName   = 'CrmServerSideSync.MailboxOwnership'
            EmailAddress = $entry.EmailAddress
            Environments = $environments
            Primary      = $primary
            Owners       = @($entry.Owners | Select-Object -Unique)
            Mailboxes    = $entry.Mailboxes.ToArray()
        }
    }
}
