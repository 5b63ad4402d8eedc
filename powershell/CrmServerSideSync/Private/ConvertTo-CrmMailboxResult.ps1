# Turning the library's per-mailbox "item" events into result objects and error records.
function ConvertTo-CrmMailboxResult {
    <#
    .SYNOPSIS
    Turns one "item" event of a bulk operation into a CrmServerSideSync.MailboxResult object, and
    its error document (if any) into an ErrorRecord returned through -ErrorRecord.
    .DESCRIPTION
    Every result has MailboxId, Name, EmailAddress, OwnerType, Step, Outcome, Changes (one line of
    "Field: from -> to") and Error (message and remedy as text). Test & Enable results (step
    TestAndEnable) add the statuses, TestCompletedOn, Alerts (CrmServerSideSync.Alert objects) and
    AlertSummary, and are also typed CrmServerSideSync.MailboxTestResult; approval results add
    ApprovedByO365Admin.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [object] $ItemEvent,
        [string] $Step,
        [ref] $ErrorRecord
    )
    $props = $ItemEvent.PSObject.Properties
    if ($props['step'] -and $ItemEvent.step) { $Step = [string]$ItemEvent.step }
    $errorText = $null
    $hasError = $props['error'] -and $null -ne $ItemEvent.error
    if ($hasError) {
        $errorText = [string]$ItemEvent.error.message
        if ($ItemEvent.error.PSObject.Properties['remedy'] -and $ItemEvent.error.remedy) { $errorText = $errorText.TrimEnd() + ' ' + [string]$ItemEvent.error.remedy }
    }
    $result = [ordered]@{
        PSTypeName   = 'CrmServerSideSync.MailboxResult'
        MailboxId    = [string]$ItemEvent.key
        Name         = $ItemEvent.name
        EmailAddress = $ItemEvent.email_address
        OwnerType    = $ItemEvent.owner_type
        Step         = $Step
        Outcome      = [string]$ItemEvent.outcome
        Changes      = Format-CrmChange -Change @($ItemEvent.changes)
        Error        = $errorText
    }
    $isTest = $Step -eq 'TestAndEnable'
    if ($isTest) {
        $alerts = @()
        if ($props['alerts']) { $alerts = @($ItemEvent.alerts | ConvertTo-CrmAlert) }
        $result['IncomingEmailStatus'] = $(if ($props['incoming_email_status']) { $ItemEvent.incoming_email_status } else { $null })
        $result['OutgoingEmailStatus'] = $(if ($props['outgoing_email_status']) { $ItemEvent.outgoing_email_status } else { $null })
        $result['ActStatus'] = $(if ($props['act_status']) { $ItemEvent.act_status } else { $null })
        $result['MailboxStatus'] = $(if ($props['mailbox_status']) { $ItemEvent.mailbox_status } else { $null })
        $result['TestCompletedOn'] = $(if ($props['test_completed_on']) { ConvertTo-CrmDateTime -Value $ItemEvent.test_completed_on } else { $null })
        $result['Alerts'] = $alerts
        $result['AlertSummary'] = Format-CrmAlertSummary -Alert $alerts
    }
    if ($props['approved_by_o365_admin']) { $result['ApprovedByO365Admin'] = $ItemEvent.approved_by_o365_admin }
    $object = [pscustomobject]$result
    if ($isTest) { $object.PSObject.TypeNames.Insert(0, 'CrmServerSideSync.MailboxTestResult') }

    if ($PSBoundParameters.ContainsKey('ErrorRecord')) {
        $ErrorRecord.Value = $null
        if ($hasError) {
            $label = [string]$ItemEvent.name
            if (-not [string]::IsNullOrEmpty([string]$ItemEvent.email_address)) { $label = "$label <$($ItemEvent.email_address)>" }
            if ([string]::IsNullOrEmpty($label)) { $label = [string]$ItemEvent.key }
            $ErrorRecord.Value = New-CrmItemErrorRecord -ErrorDocument $ItemEvent.error -TargetObject $object -Label $label
        }
    }
    $object
}
