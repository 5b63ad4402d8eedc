function New-CrmHealthSummary {
    <#
    .SYNOPSIS
    The CrmServerSideSync.MailboxHealthSummary of one environment, from the health operation's
    result document: counts per class, unhealthy and repairable totals, the mailboxes that changed
    class since the baseline.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [object] $Result,
        [Parameter(Mandatory)] [object] $Connection,
        [AllowEmptyString()] [string] $Environment
    )
    $summary = [ordered]@{ PSTypeName = 'CrmServerSideSync.MailboxHealthSummary'; Url = $Connection.Url; Environment = $Environment; Mailboxes = [int]$Result.mailboxes }
    foreach ($class in @('Healthy', 'NotConfigured', 'PendingApproval', 'NotTested', 'TestScheduled', 'Failing', 'Disabled', 'Stale', 'Inactive')) {
        $summary[$class] = [int]$Result.counts.$class
    }
    $summary['Unhealthy'] = [int]$Result.unhealthy
    $summary['Repairable'] = [int]$Result.repairable
    $summary['Changed'] = @(foreach ($c in @($Result.changed)) {
            if ($null -eq $c) { continue }
            [pscustomobject]@{ PSTypeName = 'CrmServerSideSync.MailboxHealthChange'; MailboxId = [string]$c.mailbox_id; Name = $c.name; From = $c.from; To = [string]$c.to }
        })
    $summary['StaleAfter'] = [TimeSpan]::FromSeconds([double]$Result.stale_after_secs)
    $summary['AuditColumns'] = [bool]$Result.audit_columns
    [pscustomobject]$summary
}
