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
