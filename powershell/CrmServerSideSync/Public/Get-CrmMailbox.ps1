function Get-CrmMailbox {
    <#
    .SYNOPSIS
    Gets mailboxes (users and queues) with their server-side synchronization settings and statuses.

    .DESCRIPTION
    Lists the organization's mailboxes, optionally filtered by exact name, email address or email
    server profile. Mailboxes are written to the pipeline page by page as they arrive, with
    progress; stopping the pipeline early (for example Select-Object -First 3 or Ctrl+C) cancels
    the listing.

    .PARAMETER Mailbox
    The mailboxes by identity, as with Exchange's -Identity: each value is a mailbox name, an email
    address or a mailbox id (a GUID), told apart by its shape. Positional.

    .PARAMETER Name
    Exact mailbox name (quotes are fine: the value is escaped, never spliced into a filter).

    .PARAMETER EmailAddress
    Exact email address.

    .PARAMETER ServerProfile
    An email server profile name or id; accepts the ProfileId of objects from Get-CrmEmailServerProfile.

    .PARAMETER PageSize
    How many mailboxes to read per request.

    .PARAMETER Connection
    The connection to use. Defaults to the connection made by the last Connect-CrmOnline. Several
    connections (one per environment) are read concurrently; every mailbox then carries an
    Environment property ("Organization (URL)"), and an environment that cannot be read is a
    non-terminating error (TargetObject: its connection) that does not stop the others.

    .PARAMETER ThrottleLimit
    With several connections: how many environments are read at once (default 4).

    .EXAMPLE
    Get-CrmMailbox -Connection (Connect-CrmOnline -Url https://contoso.crm.dynamics.com, https://contoso-test.crm.dynamics.com -ManagedIdentity) | Group-Object Environment, IncomingEmail

    Reads the mailboxes of two environments at once and counts their incoming delivery methods per environment.

    .EXAMPLE
    Get-CrmMailbox 'Avery Adams', 'support1@contoso.example'

    Two mailboxes, one by name and one by email address.

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
        [string[]] $Mailbox,

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
        [object[]] $Connection,

        [ValidateRange(1, 64)]
        [int] $ThrottleLimit = 4
    )
    begin {
        $connections = @(Resolve-CrmConnectionSet -Cmdlet $PSCmdlet -Connection $Connection)
        $conn = $connections[0]
    }
    process {
        $document = [ordered]@{ name = $Name; email_address = $EmailAddress; server_profile = $ServerProfile }
        if ($PSBoundParameters.ContainsKey('Mailbox')) { $document['mailboxes'] = @($Mailbox) }
        if ($PSBoundParameters.ContainsKey('PageSize')) { $document['page_size'] = $PageSize }
        $query = ConvertTo-CrmRequestJson -Document $document
        $target = $Name
        if ([string]::IsNullOrEmpty($target)) { $target = $Mailbox -join ', ' }
        if ([string]::IsNullOrEmpty($target)) { $target = $EmailAddress }
        if ([string]::IsNullOrEmpty($target)) { $target = $ServerProfile }
        if ([string]::IsNullOrEmpty($target)) { $target = $conn.Url }
        if ($connections.Count -gt 1) {
            # Every environment read concurrently; each mailbox carries its Environment.
            $operations = @(foreach ($c in $connections) { @{ Connection = $c; Method = 'StartMailboxList'; Request = $query; State = (Get-CrmEnvironmentName -Connection $c) } })
            Invoke-CrmOperationSet -Cmdlet $PSCmdlet -Operations $operations -Activity 'Reading mailboxes from' -ThrottleLimit $ThrottleLimit -OnEvent {
                param($entry, $evt)
                if ($evt.type -ne 'items') { return }
                foreach ($m in @($evt.items | Where-Object { $null -ne $_ } | ConvertTo-CrmPascalObject -TypeName 'CrmServerSideSync.Mailbox')) {
                    Add-Member -InputObject $m -MemberType NoteProperty -Name Environment -Value $entry.State -PassThru
                }
            }
            foreach ($op in $operations) {
                if ($null -ne $op['Error']) { $PSCmdlet.WriteError((New-CrmEnvironmentErrorRecord -Record $op['Error'] -Environment $op.State -TargetObject $op.Connection)) }
            }
            return
        }
        $summary = $null
        Invoke-CrmOperation -Cmdlet $PSCmdlet -Connection $conn -Method 'StartMailboxList' -Request $query -Activity ('Reading mailboxes from ' + $conn.Url) -Result ([ref]$summary) -TargetObject $target | ForEach-Object {
            if ($_.type -eq 'items') {
                $items = @($_.items | Where-Object { $null -ne $_ })
                # One pipeline per page: items stream out one by one (a stopped pipeline stops, and cancels, here).
                $items | ConvertTo-CrmPascalObject -TypeName 'CrmServerSideSync.Mailbox'
            }
            else {
                Write-Debug "Ignoring event of type '$($_.type)'."
            }
        }
        Write-Verbose "Listed $($summary.count) mailboxes in $($summary.pages) pages."
    }
}
