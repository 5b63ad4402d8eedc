function Get-CrmAddressOwner {
    <#
    .SYNOPSIS
    Reads the mailboxes of every given environment (concurrently) and returns, per email address
    (lower case), where it is configured for server-side synchronization and which environments
    own it.
    .DESCRIPTION
    One Exchange mailbox synchronizes with one Dataverse environment: Test & Enable in a second
    environment turns synchronization off in the first (day-two-reference §5). An environment
    "owns" an address when its mailbox for it uses server-side synchronization (any delivery
    method) and either holds the organization-primary flag (orgmarkedasprimaryforexchangesync or
    isactsyncorgflagset) or passed Test & Enable (MailboxStatus Success). That rule is the native
    core's (the one its multi-environment setup applies): every listed mailbox carries the
    decision as its Ownership (Synchronized, Primary, Owner), and this reads it. Returns a hashtable:
    address -> @{ EmailAddress; Present (environments with a mailbox for it); Configured
    (environments synchronizing it); Primary; Owners; Mailboxes (the synchronizing ones) }. Costs
    one mailbox read per environment (5,000 rows a page).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object[]] $Connections
    )
    $byAddress = @{}
    foreach ($m in @(Get-CrmMailbox -Connection $Connections)) {
        if ([string]::IsNullOrWhiteSpace($m.EmailAddress)) { continue }
        $key = $m.EmailAddress.Trim().ToLowerInvariant()
        if (-not $byAddress.ContainsKey($key)) {
            $byAddress[$key] = @{
                EmailAddress = $m.EmailAddress.Trim()
                Present      = New-Object 'System.Collections.Generic.List[string]'
                Configured   = New-Object 'System.Collections.Generic.List[string]'
                Primary      = New-Object 'System.Collections.Generic.List[string]'
                Owners       = New-Object 'System.Collections.Generic.List[string]'
                Mailboxes    = New-Object 'System.Collections.Generic.List[object]'
            }
        }
        $entry = $byAddress[$key]
        $entry.Present.Add($m.Environment)
        $ownership = $m.Ownership
        if (-not $ownership.Synchronized) { continue }
        $entry.Configured.Add($m.Environment)
        $entry.Mailboxes.Add($m)
        if ($ownership.Primary) { $entry.Primary.Add($m.Environment) }
        if ($ownership.Owner) { $entry.Owners.Add($m.Environment) }
    }
    $byAddress
}
