# Turning the library's per-mailbox "item" events into result objects and error records.

function Format-CrmValue {
    <# .SYNOPSIS A value from a change ("from"/"to") as display text: null -> (none). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return '(none)' }
    if ($Value -is [string] -and $Value.Length -eq 0) { return '(none)' }
    [string]$Value
}

function Format-CrmChange {
    <#
    .SYNOPSIS
    Changes as one line: "IncomingEmail: None -> ServerSideSync; OutgoingEmail: Outlook -> ServerSideSync".
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object[]] $Change)
    $parts = @(foreach ($c in @($Change)) {
            if ($null -eq $c) { continue }
            '{0}: {1} -> {2}' -f $c.field, (Format-CrmValue $c.from), (Format-CrmValue $c.to)
        })
    $parts -join '; '
}

function ConvertTo-CrmDateTime {
    <#
    .SYNOPSIS
    An ISO 8601 time from the library as a local DateTime, the same on every edition (PowerShell 7's
    ConvertFrom-Json already makes DateTimes, Windows PowerShell 5.1 leaves strings). Null stays null.
    #>
    [CmdletBinding()]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [DateTime]) {
        if ($Value.Kind -eq [DateTimeKind]::Utc) { return $Value.ToLocalTime() }
        return $Value
    }
    if ($Value -is [DateTimeOffset]) { return $Value.LocalDateTime }
    $parsed = [DateTimeOffset]::MinValue
    if ([DateTimeOffset]::TryParse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::AssumeUniversal, [ref]$parsed)) {
        return $parsed.LocalDateTime
    }
    $Value
}

function ConvertTo-CrmAlert {
    <#
    .SYNOPSIS
    An alert (tracelog) document from the library as a CrmServerSideSync.Alert object
    (CreatedOn as a local DateTime on every edition).
    #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $InputObject)
    process {
        if ($null -eq $InputObject) { return }
        $alert = ConvertTo-CrmPascalObject -InputObject $InputObject -TypeName 'CrmServerSideSync.Alert'
        if ($alert.PSObject.Properties['CreatedOn']) { $alert.CreatedOn = ConvertTo-CrmDateTime -Value $alert.CreatedOn }
        $alert
    }
}

function Format-CrmAlertSummary {
    <# .SYNOPSIS Alerts as one line for tables and CSV: "Error IncomingEmailS2SApprovalNeeded: text | …". #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object[]] $Alert)
    $parts = @(foreach ($a in @($Alert)) {
            if ($null -eq $a) { continue }
            $kind = $a.ErrorType
            if ([string]::IsNullOrEmpty($kind)) { $kind = $a.Code }
            '{0} {1}: {2}' -f $a.Level, $kind, $a.Text
        })
    $parts -join ' | '
}

function New-CrmItemErrorRecord {
    <#
    .SYNOPSIS
    The non-terminating error for a failed item: the library's error document as a CrmSyncException
    (message verbatim, remedy as RecommendedAction), ErrorId CrmSync.<Status>[.<code>], TargetObject
    the item's result object; the displayed text names the mailbox first.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [object] $ErrorDocument,
        [AllowNull()] [object] $TargetObject,
        [string] $Label
    )
    # An item's error names its kind in `status` (the same names as CrmSyncStatus); the numeric
    # status_code is only on the error of a failed call.
    $status = [CrmSync.Interop.CrmSyncStatus]::Service
    if ($ErrorDocument.PSObject.Properties['status'] -and $ErrorDocument.status) {
        $name = [string]$ErrorDocument.status
        if ([System.Enum]::IsDefined([CrmSync.Interop.CrmSyncStatus], $name)) { $status = [CrmSync.Interop.CrmSyncStatus]$name }
    }
    $message = [string]$ErrorDocument.message
    if ([string]::IsNullOrEmpty($message)) { $message = 'The operation failed for this mailbox.' }
    $json = ConvertTo-Json -InputObject $ErrorDocument -Compress -Depth 4
    $exception = New-Object CrmSync.Interop.CrmSyncException ($status, $json, $message)
    $record = New-CrmErrorRecord -Exception $exception -TargetObject $TargetObject
    if (-not [string]::IsNullOrEmpty($Label) -and $null -ne $record.ErrorDetails) {
        $details = New-Object System.Management.Automation.ErrorDetails ($Label + ': ' + $record.ErrorDetails.Message)
        $details.RecommendedAction = $record.ErrorDetails.RecommendedAction
        $record.ErrorDetails = $details
    }
    $record
}

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
