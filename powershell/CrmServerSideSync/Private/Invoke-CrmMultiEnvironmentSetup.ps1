function Invoke-CrmMultiEnvironmentSetup {
    <#
    .SYNOPSIS
    Invoke-CrmExchangeOnlineSetup across several environments: the same request in each, run
    concurrently (Invoke-CrmOperationSet), one CrmServerSideSync.MultiEnvironmentSetupReport.
    .DESCRIPTION
    Each environment gets its own report (as a single-environment run would) inside
    Environments, with its Status: Succeeded, CompletedWithErrors (some mailboxes failed) or
    Failed (the run could not complete there: missing privilege, unreachable, sign-in lost; the
    reason is in Error and written as a non-terminating error whose TargetObject is the
    environment's result). Mailboxes holds every environment's rows, each with its Environment.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object[]] $Connections,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Request,
        [Parameter(Mandatory)] [bool] $WhatIf,
        [int] $ThrottleLimit = 4,
        [DateTime] $StartedAt = [DateTime]::Now,
        # Each environment leaves out the addresses another one owns (the native setups compare
        # the mailboxes they read: steps::ownership).
        [switch] $CompareOwnership
    )
    $atOnce = $ThrottleLimit
    $group = $null
    if ($CompareOwnership) {
        # Every environment's setup is started at once: they meet to compare their mailboxes, and
        # the group lets -ThrottleLimit of them read or write at a time.
        if ($Connections.Count -gt 64) {
            $record = New-Object System.Management.Automation.ErrorRecord (
                (New-Object System.ArgumentException ("$($Connections.Count) environments: comparing mailbox ownership works for at most 64 environments in one run. Nothing was changed.")),
                'CrmSync.TooManyEnvironments', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Connections.Count)
            $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($record.Exception.Message)
            $record.ErrorDetails.RecommendedAction = 'Run the environments in groups of at most 64, or add -Force to set them up without comparing their mailboxes.'
            $Cmdlet.ThrowTerminatingError($record)
        }
        $group = [guid]::NewGuid().ToString()
        # Every setup started at once; the group's at_once bounds how many work at a time.
        $ThrottleLimit = $Connections.Count
    }
    $operations = @(foreach ($c in $Connections) {
            $environment = Get-CrmEnvironmentName -Connection $c
            $document = [ordered]@{}
            foreach ($key in $Request.Keys) { $document[$key] = $Request[$key] }
            if ($null -ne $group) {
                $document['ownership'] = [ordered]@{ group = $group; environment = $environment; environments = $Connections.Count; at_once = $atOnce }
            }
            @{ Connection = $c; Method = 'StartSetup'; Request = (ConvertTo-CrmRequestJson -Document $document); State = (New-CrmSetupState -Connection $c -WhatIf $WhatIf -Environment $environment) }
        })
    # $Cmdlet is found by dynamic scope where Invoke-CrmOperationSet calls the block.
    Invoke-CrmOperationSet -Cmdlet $Cmdlet -Operations $operations -Activity 'Exchange Online setup on' -ThrottleLimit $ThrottleLimit -TypedItems -OnEvent {
        param($entry, $evt)
        Add-CrmSetupEvent -Cmdlet $Cmdlet -State $entry.State -Event $evt
    }

    $mailboxes = New-Object 'System.Collections.Generic.List[object]'
    $environments = @(foreach ($op in $operations) {
            $c = $op.Connection
            $result = [pscustomobject][ordered]@{
                PSTypeName   = 'CrmServerSideSync.EnvironmentSetupResult'
                Environment  = $op.State.Environment
                Organization = $c.OrganizationName
                Url          = $c.Url
                Status       = 'Succeeded'
                MailboxCount = 0
                Failed       = 0
                Summary      = $null
                Error        = $null
                Refused      = $op.State.Refused.ToArray()
                Report       = $null
            }
            if ($null -ne $op['Error']) {
                $text = Get-CrmErrorText -Record $op['Error']
                $result.Status = 'Failed'
                $result.Error = $text
                $result.Summary = "Failed: $text"
                $Cmdlet.WriteError((New-CrmEnvironmentErrorRecord -Record $op['Error'] -Environment $result.Environment -TargetObject $result))
            }
            else {
                $report = Complete-CrmSetupReport -Rows $op.State.Rows -Result $op['Result'] -WhatIf $WhatIf -Checks $op.State.Checks.ToArray() -OrganizationChanges $op.State.OrgChanges.ToArray() -Alerts $op.State.Alerts.ToArray() -Connection $c -StartedAt $StartedAt
                Add-Member -InputObject $report -MemberType NoteProperty -Name Environment -Value $op.State.Environment
                if ($WhatIf) {
                    foreach ($row in @($report.Mailboxes | Where-Object { $_.Result -eq 'WillChange' })) { [void]$Cmdlet.ShouldProcess("$(Get-CrmMailboxLabel -Item $row) in $($op.State.Environment)", $row.Changes) }
                }
                foreach ($row in $report.Mailboxes) { $mailboxes.Add($row) }
                $result.MailboxCount = $report.MailboxCount
                $result.Failed = $report.Failed
                $result.Summary = $report.Summary
                $result.Report = $report
                if ($report.Failed -gt 0) { $result.Status = 'CompletedWithErrors' }
            }
            Write-Verbose "$($result.Environment): $($result.Summary)"
            $result
        })
    $failedEnvironments = @($environments | Where-Object Status -eq 'Failed').Count
    $mailboxCount = 0; $failedMailboxes = 0
    foreach ($e in $environments) { $mailboxCount += $e.MailboxCount; $failedMailboxes += $e.Failed }
    $summary = "$($environments.Count) environment(s): $($environments.Count - $failedEnvironments) completed, $failedEnvironments failed; $mailboxCount mailbox(es), $failedMailboxes failed."
    if ($WhatIf) { $summary = "What if: $summary Nothing was written." }
    $report = [pscustomobject][ordered]@{
        PSTypeName         = 'CrmServerSideSync.MultiEnvironmentSetupReport'
        Summary            = $summary
        WhatIf             = $WhatIf
        StartedAt          = $StartedAt
        DurationSeconds    = [math]::Round(([DateTime]::Now - $StartedAt).TotalSeconds, 1)
        EnvironmentCount   = $environments.Count
        FailedEnvironments = $failedEnvironments
        Environments       = $environments
        Mailboxes          = $mailboxes.ToArray()
    }
    Add-Member -InputObject $report -MemberType ScriptMethod -Name ToString -Value { $this.Summary } -Force
    Write-Verbose $summary
    $report
}
