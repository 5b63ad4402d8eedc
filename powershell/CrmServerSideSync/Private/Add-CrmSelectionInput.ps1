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
