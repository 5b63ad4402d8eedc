function Get-CrmMailbox {
    <#
    .SYNOPSIS
    Gets mailboxes (users and queues) with their server-side synchronization settings and statuses.

    .DESCRIPTION
    Lists the organization's mailboxes, optionally filtered by exact name, email address or email
    server profile. Mailboxes are written to the pipeline page by page as they arrive, with
    progress; stopping the pipeline early (for example Select-Object -First 3 or Ctrl+C) cancels
    the listing.

    .PARAMETER Name
    Exact mailbox name (quotes are fine: the value is escaped, never spliced into a filter).

    .PARAMETER EmailAddress
    Exact email address.

    .PARAMETER ServerProfile
    An email server profile name or id; accepts the ProfileId of objects from Get-CrmEmailServerProfile.

    .PARAMETER PageSize
    How many mailboxes to read per request.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline.

    .EXAMPLE
    Get-CrmMailbox | Group-Object State

    Counts the mailboxes by state.

    .EXAMPLE
    Get-CrmMailbox -Name "Liam O'Brien"

    Gets one mailbox by name.

    .EXAMPLE
    Get-CrmMailbox -ServerProfile 'Microsoft Exchange Online' | Where-Object ApprovalStatus -ne 'Approved'

    Lists the mailboxes of the Exchange Online profile whose email is not approved yet.

    .OUTPUTS
    CrmServerSideSync.Mailbox
    #>
    [CmdletBinding()]
    [OutputType('CrmServerSideSync.Mailbox')]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [ValidateNotNullOrEmpty()]
        [string] $EmailAddress,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('ProfileId')]
        [ValidateNotNullOrEmpty()]
        [string] $ServerProfile,

        [ValidateRange(1, 5000)]
        [int] $PageSize,

        [PSTypeName('CrmServerSideSync.Connection')]
        [object] $Connection
    )
    begin {
        $conn = Resolve-CrmConnection -Cmdlet $PSCmdlet -Connection $Connection
    }
    process {
        $document = [ordered]@{ name = $Name; email_address = $EmailAddress; server_profile = $ServerProfile }
        if ($PSBoundParameters.ContainsKey('PageSize')) { $document['page_size'] = $PageSize }
        $query = ConvertTo-CrmRequestJson -Document $document
        $target = $Name
        if ([string]::IsNullOrEmpty($target)) { $target = $EmailAddress }
        if ([string]::IsNullOrEmpty($target)) { $target = $ServerProfile }
        if ([string]::IsNullOrEmpty($target)) { $target = $conn.Url }
        Write-Verbose "Listing mailboxes from $($conn.Url): $query"

        $activity = 'Reading mailboxes from ' + $conn.Url
        $operation = $null
        $finished = $false
        $count = 0
        try {
            try {
                $operation = $conn.Client.StartMailboxList($query)
            }
            catch {
                $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $target))
            }
            while ($true) {
                $eventJson = $null
                try {
                    $status = $operation.NextEvent(250, [ref]$eventJson)
                }
                catch {
                    $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $target))
                }
                if ($status -eq [CrmSync.Interop.CrmSyncStatus]::TimedOut) { continue }
                if ($status -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { break }

                $evt = $eventJson | ConvertFrom-Json
                if ($evt.type -eq 'items') {
                    $items = @($evt.items | Where-Object { $null -ne $_ })
                    $count += $items.Count
                    # One pipeline per page: items stream out one by one (a stopped pipeline stops here).
                    $items | ConvertTo-CrmPascalObject -TypeName 'CrmServerSideSync.Mailbox'
                    Write-Progress -Id 41 -Activity $activity -Status "$count mailboxes (page $($evt.page))"
                }
                elseif ($evt.type -eq 'progress') {
                    $message = [string]$evt.message
                    if ([string]::IsNullOrEmpty($message)) { $message = "$($evt.done) mailboxes" }
                    Write-Progress -Id 41 -Activity $activity -Status $message
                }
                else {
                    Write-Debug "Ignoring event of type '$($evt.type)'."
                }
            }

            $resultJson = $null
            $errorJson = $null
            $final = $operation.TryResult([ref]$resultJson, [ref]$errorJson)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($final -eq [CrmSync.Interop.CrmSyncStatus]::StillRunning -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 50
                $final = $operation.TryResult([ref]$resultJson, [ref]$errorJson)
            }
            if ($final -ne [CrmSync.Interop.CrmSyncStatus]::Ok) {
                try { [void]$operation.Result() } catch { $PSCmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $target)) }
            }
            $finished = $true
            $summary = $resultJson | ConvertFrom-Json
            Write-Verbose "Listed $($summary.count) mailboxes in $($summary.pages) pages."
        }
        finally {
            # Runs on normal completion, on errors and when the pipeline stops (Select-Object -First, Ctrl+C).
            if ($null -ne $operation) {
                if (-not $finished) { [void]$operation.Cancel() }
                $operation.Dispose()
            }
            try { Write-Progress -Id 41 -Activity $activity -Completed } catch { Write-Debug 'Progress could not be completed (pipeline stopped).' }
        }
    }
}
