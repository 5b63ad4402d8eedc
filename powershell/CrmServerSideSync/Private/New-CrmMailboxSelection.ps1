# Mailbox selection shared by the bulk cmdlets (Set-CrmMailbox, Approve-/Deny-/Enable-CrmMailbox,
# Invoke-CrmExchangeOnlineSetup): the cmdlets collect what is piped in (process{}) and what was
# given as parameters, then build ONE selection document for ONE native operation (end{}).

function New-CrmSelectionCollector {
    <#
    .SYNOPSIS
    A collector for the mailboxes a bulk cmdlet works on. Call in begin{} with $PSBoundParameters:
    it remembers which selection parameters were given directly (they are applied once, in end{}).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory)] [System.Collections.IDictionary] $BoundParameters)
    @{
        Direct   = @{} + $BoundParameters
        Ids      = New-Object 'System.Collections.Generic.List[string]'
        Names    = New-Object 'System.Collections.Generic.List[string]'
        Emails   = New-Object 'System.Collections.Generic.List[string]'
        Profiles = New-Object 'System.Collections.Generic.List[string]'
        # -Mailbox: names, addresses or ids as typed; the library tells them apart.
        Identities = New-Object 'System.Collections.Generic.List[string]'
        Piped    = 0
    }
}

function Add-CrmSelectionInput {
    <#
    .SYNOPSIS
    Adds one piped object's identity to the collector (call in process{} with the bound values).
    .DESCRIPTION
    A piped object may bind several parameters by property name (a mailbox has MailboxId, Name
    and EmailAddress; a profile has ProfileId and Name). The most precise one wins: MailboxId,
    then a server profile (ProfileId), then Name, then EmailAddress. Parameters given directly
    on the command line are ignored here: they are applied once by New-CrmMailboxSelection.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [hashtable] $Collector,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [string[]] $MailboxId,
        [AllowNull()] [string[]] $Name,
        [AllowNull()] [string[]] $EmailAddress,
        [AllowNull()] [string] $ServerProfile
    )
    if (-not $Cmdlet.MyInvocation.ExpectingInput) { return }
    $direct = $Collector.Direct
    $Collector.Piped++
    $ids = @($MailboxId | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })
    if (-not $direct.ContainsKey('MailboxId') -and $ids.Count -gt 0) {
        foreach ($id in $ids) { $Collector.Ids.Add($id.Trim()) }
        return
    }
    if (-not $direct.ContainsKey('ServerProfile') -and -not [string]::IsNullOrWhiteSpace($ServerProfile)) {
        $Collector.Profiles.Add($ServerProfile.Trim())
        return
    }
    $names = @($Name | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })
    if (-not $direct.ContainsKey('Name') -and $names.Count -gt 0) {
        foreach ($n in $names) { $Collector.Names.Add($n) }
        return
    }
    $emails = @($EmailAddress | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })
    if (-not $direct.ContainsKey('EmailAddress') -and $emails.Count -gt 0) {
        foreach ($e in $emails) { $Collector.Emails.Add($e.Trim()) }
    }
}

function ConvertTo-CrmODataString {
    <# .SYNOPSIS An OData string literal: single quotes doubled, the whole value quoted. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Value)
    "'" + $Value.Replace("'", "''") + "'"
}

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

function Format-CrmSelection {
    <# .SYNOPSIS A short description of a selection for messages ("3 mailboxes by id", "all active mailboxes"). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Collections.IDictionary] $Selection)
    $parts = New-Object 'System.Collections.Generic.List[string]'
    if ($Selection.Contains('mailboxes')) { $parts.Add("$(@($Selection['mailboxes']).Count) mailbox(es) by identity") }
    if ($Selection.Contains('mailbox_ids')) { $parts.Add("$(@($Selection['mailbox_ids']).Count) mailbox(es) by id") }
    if ($Selection.Contains('name')) { $parts.Add("name '$($Selection['name'])'") }
    if ($Selection.Contains('email_address')) { $parts.Add("address '$($Selection['email_address'])'") }
    if ($Selection.Contains('server_profile')) { $parts.Add("server profile '$($Selection['server_profile'])'") }
    if ($Selection.Contains('filter')) { $parts.Add("filter $($Selection['filter'])") }
    if ($parts.Count -eq 0) { return 'all active mailboxes' }
    'active mailboxes with ' + ($parts -join ', ')
}
