function Get-CrmErrorText {
    <# .SYNOPSIS The text an error record shows: its ErrorDetails message (message and remedy), else the exception's message. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $Record)
    if ($null -ne $Record.ErrorDetails -and -not [string]::IsNullOrEmpty($Record.ErrorDetails.Message)) { return $Record.ErrorDetails.Message }
    $Record.Exception.Message
}
