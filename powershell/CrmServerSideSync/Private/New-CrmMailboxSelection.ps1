# Mailbox selection shared by the bulk cmdlets (Set-CrmMailbox, Approve-/Deny-/Enable-CrmMailbox,
# Invoke-CrmExchangeOnlineSetup): the cmdlets collect what is piped in (process{}) and what was
# given as parameters, then build ONE selection document for ONE native operation (end{}).

function New-CrmMailboxSelection {
    <#
    .SYNOPSIS
    Builds the selection document {name, email_address, server_profile, mailbox_ids, filter} from
    the collector and the parameters given directly; refuses an empty selection without -All.
    .DESCRIPTION
    Returns $null when mailboxes were expected from the pipeline but none arrived (nothing to do:
    an empty pipeline never widens to "all mailboxes"). Several names or addresses become an
    OData "or" filter (values escaped as OData literals). Identities add up: ids, names and
    addresses together select every mailbox that matches any of them. A server profile and
    -Filter narrow the selection ("and").
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable] $Collector,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [string] $Filter,
        [switch] $All
    )
    $direct = $Collector.Direct
    $ids = New-Object 'System.Collections.Generic.List[string]'
    $names = New-Object 'System.Collections.Generic.List[string]'
    $emails = New-Object 'System.Collections.Generic.List[string]'
    $profiles = New-Object 'System.Collections.Generic.List[string]'
    foreach ($pair in @(@($ids, $Collector.Ids, 'MailboxId'), @($names, $Collector.Names, 'Name'), @($emails, $Collector.Emails, 'EmailAddress'), @($profiles, $Collector.Profiles, 'ServerProfile'))) {
        $target = $pair[0]
        foreach ($value in $pair[1]) { if (-not $target.Contains($value)) { $target.Add($value) } }
        if ($direct.ContainsKey($pair[2])) {
            foreach ($value in @($direct[$pair[2]])) {
                if (-not [string]::IsNullOrWhiteSpace($value) -and -not $target.Contains([string]$value)) { $target.Add(([string]$value).Trim()) }
            }
        }
    }

    $identities = New-Object 'System.Collections.Generic.List[string]'
    foreach ($value in @($Collector.Identities) + @($direct['Mailbox'])) {
        if (-not [string]::IsNullOrWhiteSpace($value) -and -not $identities.Contains([string]$value)) { $identities.Add([string]$value) }
    }

    $selection = [ordered]@{}
    $filters = New-Object 'System.Collections.Generic.List[string]'
    $kinds = @(@($ids, $names, $emails) | Where-Object { $_.Count -gt 0 }).Count
    if ($identities.Count -gt 0) {
        # Identities add up with ids, names and addresses: the library resolves each by its shape
        # (an id, an address with '@', else a name) and escapes it.
        $selection['mailboxes'] = @(@($identities) + @($ids) + @($names) + @($emails))
    }
    elseif ($kinds -gt 1) {
        # Identities of different kinds (ids, names, addresses) add up: one "or" filter for all of them.
        $terms = New-Object 'System.Collections.Generic.List[string]'
        $guid = [guid]::Empty
        foreach ($id in $ids) {
            if (-not [guid]::TryParse($id, [ref]$guid)) {
                $record = New-Object System.Management.Automation.ErrorRecord (
                    (New-Object System.ArgumentException ("'$id' is not a mailbox id (a GUID).")),
                    'CrmSync.InvalidMailboxId', [System.Management.Automation.ErrorCategory]::InvalidArgument, $id)
                $Cmdlet.ThrowTerminatingError($record)
            }
            $terms.Add('mailboxid eq ' + $guid.ToString())
        }
        foreach ($n in $names) { $terms.Add('name eq ' + (ConvertTo-CrmODataString $n)) }
        foreach ($e in $emails) { $terms.Add('emailaddress eq ' + (ConvertTo-CrmODataString $e)) }
        $filters.Add('(' + ($terms -join ' or ') + ')')
    }
    else {
        if ($ids.Count -gt 0) { $selection['mailbox_ids'] = @($ids) }
        if ($names.Count -eq 1) { $selection['name'] = $names[0] }
        elseif ($names.Count -gt 1) { $filters.Add('(' + (@($names | ForEach-Object { 'name eq ' + (ConvertTo-CrmODataString $_) }) -join ' or ') + ')') }
        if ($emails.Count -eq 1) { $selection['email_address'] = $emails[0] }
        elseif ($emails.Count -gt 1) { $filters.Add('(' + (@($emails | ForEach-Object { 'emailaddress eq ' + (ConvertTo-CrmODataString $_) }) -join ' or ') + ')') }
    }
    if ($profiles.Count -eq 1) { $selection['server_profile'] = $profiles[0] }
    elseif ($profiles.Count -gt 1) {
        $guid = [guid]::Empty
        $notIds = @($profiles | Where-Object { -not [guid]::TryParse($_, [ref]$guid) })
        if ($notIds.Count -gt 0) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ("Several server profiles were given by name ($($profiles -join ', ')): give one profile name, or pipe the profiles from Get-CrmEmailServerProfile (by id).")),
                'CrmSync.AmbiguousServerProfile', [System.Management.Automation.ErrorCategory]::InvalidArgument, @($profiles))
            $Cmdlet.ThrowTerminatingError($record)
        }
        $filters.Add('(' + (@($profiles | ForEach-Object { '_emailserverprofile_value eq ' + ([guid]$_).ToString() }) -join ' or ') + ')')
    }
    if (-not [string]::IsNullOrWhiteSpace($Filter)) { $filters.Add('(' + $Filter.Trim() + ')') }
    # A -Filter alone goes as given (the library parenthesizes it among its own conditions and
    # checks its length against what the user typed).
    if ($filters.Count -eq 1 -and -not [string]::IsNullOrWhiteSpace($Filter)) { $selection['filter'] = $Filter.Trim() }
    elseif ($filters.Count -gt 0) { $selection['filter'] = ($filters -join ' and ') }

    if ($selection.Count -eq 0) {
        if ($Cmdlet.MyInvocation.ExpectingInput) {
            Write-Verbose 'No mailboxes came from the pipeline: nothing to do.'
            return $null
        }
        if (-not $All) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ('No mailboxes were selected. Pipe mailboxes in (for example from Get-CrmMailbox), or give -Mailbox (names, addresses or ids), -MailboxId, -Name, -EmailAddress, -ServerProfile or -Filter; to work on every active mailbox, say so with -All.')),
                'CrmSync.EmptySelection', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)
            $Cmdlet.ThrowTerminatingError($record)
        }
    }
    $selection
}
