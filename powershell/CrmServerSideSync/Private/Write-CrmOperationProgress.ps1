# When each progress id was last drawn (Stopwatch timestamps).
$script:CrmProgressShown = @{}

function Write-CrmOperationProgress {
    <#
    .SYNOPSIS
    Shows an operation's progress event with Write-Progress, at most every -IntervalMilliseconds
    per progress id; the record that reaches the total (100 %) is always shown.
    .DESCRIPTION
    A large run sends hundreds of progress events a second; drawing each one costs the host
    more than handling the events (and Windows PowerShell 5.1 draws slowly), while nobody reads
    faster than a few updates a second. Receive-CrmOperationEvent calls this for every progress
    event.
    .EXAMPLE
    Write-CrmOperationProgress -Header ([CrmSync.Interop.EventHeader]::Read($json)) -Activity 'Setup' -ProgressId 41
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [CrmSync.Interop.EventHeader] $Header,
        [Parameter(Mandatory)] [string] $Activity,
        [int] $ProgressId = 41,
        [int] $IntervalMilliseconds = 250
    )
    $percent = -1
    if ($null -ne $Header.Total -and $Header.Total -gt 0) {
        $percent = [int][math]::Min(100, [math]::Floor(100 * [double]$Header.Done / [double]$Header.Total))
    }
    $now = [System.Diagnostics.Stopwatch]::GetTimestamp()
    $last = $script:CrmProgressShown[$ProgressId]
    $due = $null -eq $last -or ($now - $last) * 1000 / [System.Diagnostics.Stopwatch]::Frequency -ge $IntervalMilliseconds
    if (-not $due -and $percent -ne 100) { return }
    $script:CrmProgressShown[$ProgressId] = $now
    $message = [string]$Header.Message
    if ([string]::IsNullOrEmpty($message)) { $message = "$($Header.Done) done" }
    if (-not [string]::IsNullOrEmpty($Header.Step)) { $message = "$($Header.Step): $message" }
    Write-Progress -Id $ProgressId -Activity $Activity -Status $message -PercentComplete $percent
}
