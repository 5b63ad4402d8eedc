function ConvertTo-CrmMailboxHealth {
    <#
    .SYNOPSIS
    Turns one "health" event (or a repair event's "before"/"health_after" row) of the native
    library into a CrmServerSideSync.MailboxHealth row.
    .DESCRIPTION
    The remedy is the library's neutral one; this module adds the cmdlet that applies it when
    crmsync can repair the mailbox ("Run Repair-CrmMailbox"), and for a mailbox never tested.
    #>
    [CmdletBinding()]
    [OutputType([CrmServerSideSync.MailboxHealth])]
    param([Parameter(Mandatory)] [object] $Row)
    $h = New-Object CrmServerSideSync.MailboxHealth
    $h.MailboxId = [string]$Row.mailbox_id
    $h.Name = $Row.name
    $h.EmailAddress = $Row.email_address
    $h.OwnerType = $Row.owner_type
    $h.Health = [string]$Row.health
    $h.Reason = $Row.reason
    $h.Remedy = $Row.remedy
    $h.Repairable = [bool]$Row.repairable
    $h.Repairs = (@($Row.repairs) | Where-Object { $null -ne $_ }) -join ', '
    if ($h.Repairable) { $h.Remedy = "$($h.Remedy) Repair-CrmMailbox applies: $($h.Repairs)." }
    $h.Diagnosis = $Row.diagnosis
    $h.DiagnosisSource = $Row.diagnosis_source
    $h.DiagnosisNote = $Row.diagnosis_note
    $h.ServerProfile = $Row.server_profile_name
    $h.ServerProfileId = $Row.server_profile_id
    $h.IncomingEmail = $Row.incoming_email
    $h.OutgoingEmail = $Row.outgoing_email
    $h.AppointmentsContactsTasks = $Row.appointments_contacts_tasks
    $h.ApprovalStatus = $Row.approval_status
    $h.IncomingEmailStatus = $Row.incoming_email_status
    $h.OutgoingEmailStatus = $Row.outgoing_email_status
    $h.ActStatus = $Row.act_status
    $h.MailboxStatus = $Row.mailbox_status
    $h.EnabledForIncomingEmail = [bool]$Row.enabled_for_incoming_email
    $h.EnabledForOutgoingEmail = [bool]$Row.enabled_for_outgoing_email
    $h.EnabledForAct = [bool]$Row.enabled_for_act
    $h.LastSyncError = $Row.last_sync_error
    $h.LastSyncErrorCode = $Row.last_sync_error_code
    $h.LastSyncErrorCount = $Row.last_sync_error_count
    $h.LastSyncErrorOccurredOn = $Row.last_sync_error_occurred_on
    $h.LastSuccessfulSyncCompletedOn = $Row.last_successful_sync_completed_on
    $h.ProcessingLastAttemptedOn = $Row.processing_last_attempted_on
    $h.ProcessingStateCode = $Row.processing_state_code
    $h.PostponeMailboxProcessingUntil = $Row.postpone_mailbox_processing_until
    $h.TestScheduled = [bool]$Row.test_scheduled
    $h.TestRetryCount = $Row.test_retry_count
    $h.PostponeTestUntil = $Row.postpone_test_until
    $h.TestCompletedOn = $Row.test_completed_on
    $h.ApprovedBy = $Row.approved_by
    $h.ApprovedOn = $Row.approved_on
    $h.TestLastAttemptedBy = $Row.test_last_attempted_by
    $h.TestLastAttemptedOn = $Row.test_last_attempted_on
    $h.ProcessEmailReceivedAfter = $Row.process_email_received_after
    $h.State = $Row.state
    $h.OwnerId = $Row.owner_id
    $h.RegardingId = $Row.regarding_id
    if ($null -ne $Row.latest_error) { $h.LatestError = $Row.latest_error.text; $h.LatestErrorOn = $Row.latest_error.created_on }
    if ($null -ne $Row.latest_warning) { $h.LatestWarning = $Row.latest_warning.text; $h.LatestWarningOn = $Row.latest_warning.created_on }
    $h
}
