function Get-CrmMailboxAlert {
    <#
    .SYNOPSIS
    Gets server-side synchronization alerts (trace logs) of mailboxes and email server profiles, newest first.

    .DESCRIPTION
    Reads the alerts the platform raised about the given mailboxes (piped in by MailboxId, for
    example from Get-CrmMailbox or Enable-CrmMailbox) and/or an email server profile, or about
    everything when neither is given. Piped mailboxes are collected and read in one query.
    -Level keeps alerts at that level and above; -Since keeps the newer ones; -First limits the count.

    .PARAMETER MailboxId
    Mailbox ids; bound by property name from piped objects.

    .PARAMETER ServerProfile
    Alerts about this email server profile itself (name or id); bound from the ProfileId of piped profiles.

    .PARAMETER Level
    The lowest level to return: Information (all), Warning, or Error.

    .PARAMETER Since
    Only alerts raised at or after this time.

    .PARAMETER First
    Return at most this many alerts (the newest).

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Get-CrmMailboxAlert -Level Error -First 5

    The five newest error alerts of the organization.

    .EXAMPLE
    Get-CrmMailbox -Name 'Avery Adams' | Get-CrmMailboxAlert -Since (Get-Date).AddHours(-1)

    The alerts raised in the last hour about one mailbox.

    .EXAMPLE
    Get-CrmEmailServerProfile -Name 'Microsoft Exchange Online' | Get-CrmMailboxAlert

    The alerts about the Exchange Online profile itself.

    .OUTPUTS
    CrmServerSideSync.Alert
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.Alert')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [string[]] $MailboxId,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('ProfileId')]
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile,

        [ValidateSet('Information', 'Warning', 'Error')]
        [string] $Level,

        [datetime] $Since,

        [ValidateRange(1, 5000)]
        [int] $First,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    begin {
        $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
        $collector = New-CrmSelectionCollector -BoundParameters $PSBoundParameters
    }
    process {
        Add-CrmSelectionInput -Collector $collector -Cmdlet $PSCmdlet -MailboxId $MailboxId -ServerProfile $ServerProfile
    }
    end {
        $ids = New-Object 'System.Collections.Generic.List[string]'
        foreach ($id in @($collector.Ids) + @($collector.Direct['MailboxId'])) { if (-not [string]::IsNullOrWhiteSpace($id) -and -not $ids.Contains($id)) { $ids.Add($id) } }
        $profiles = New-Object 'System.Collections.Generic.List[string]'
        foreach ($p in @($collector.Profiles) + @($collector.Direct['ServerProfile'])) { if (-not [string]::IsNullOrWhiteSpace($p) -and -not $profiles.Contains($p)) { $profiles.Add($p) } }
        if ($PSCmdlet.MyInvocation.ExpectingInput -and $ids.Count -eq 0 -and $profiles.Count -eq 0) {
            Write-Verbose 'No mailboxes or profiles came from the pipeline: nothing to read.'
            return
        }
        $hasSince = $PSBoundParameters.ContainsKey('Since')
        $hasFirst = $PSBoundParameters.ContainsKey('First')
        $newQuery = {
            $query = [ordered]@{ min_level = $Level }
            if ($hasSince) { $query['since'] = $Since.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture) }
            if ($hasFirst) { $query['top'] = $First }
            $query
        }
        # One query for the mailboxes and the first profile (the library ORs them); one more per further profile.
        $queries = New-Object 'System.Collections.Generic.List[object]'
        $query = & $newQuery
        if ($ids.Count -gt 0) { $query['mailbox_ids'] = @($ids) }
        if ($profiles.Count -gt 0) { $query['server_profile'] = $profiles[0] }
        $queries.Add($query)
        for ($i = 1; $i -lt $profiles.Count; $i++) {
            $query = & $newQuery
            $query['server_profile'] = $profiles[$i]
            $queries.Add($query)
        }
        $alerts = @(foreach ($query in $queries) {
                $result = Invoke-CrmNativeCall -Cmdlet $PSCmdlet -Connection $conn -Method 'GetAlerts' -Request (ConvertTo-CrmRequestJson -Document $query)
                @($result.alerts) | ConvertTo-CrmAlert
            })
        if ($queries.Count -gt 1) {
            $alerts = @($alerts | Sort-Object -Property CreatedOn -Descending)
            if ($hasFirst) { $alerts = @($alerts | Select-Object -First $First) }
        }
        $alerts
    }
}
