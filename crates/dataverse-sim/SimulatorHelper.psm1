# Starts and stops the Dataverse simulator (target/<profile>/dataverse-sim) for the demo and the tests.
# Windows PowerShell 5.1 compatible.
Set-StrictMode -Version 2.0
$script:SimHelp = @{}

function Get-DataverseSimPath {
    <#
    .SYNOPSIS
    Path of the simulator binary: $env:CRMSYNC_SIM_PATH, else target/<Configuration>/dataverse-sim[.exe] of the repository.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([string] $Configuration = 'Release')

    if (-not [string]::IsNullOrEmpty($env:CRMSYNC_SIM_PATH)) { return $env:CRMSYNC_SIM_PATH }
    $repoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $name = 'dataverse-sim'
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) { $name = 'dataverse-sim.exe' }
    [System.IO.Path]::Combine($repoRoot, 'target', $Configuration.ToLowerInvariant(), $name)
}

function Test-DataverseSimOption {
    <#
    .SYNOPSIS
    True when the simulator binary supports a command-line option (read from its --help, cached per binary).
    .EXAMPLE
    Test-DataverseSimOption -Name '--test-delay-ms'
    .EXAMPLE
    if (Test-DataverseSimOption -Name '--latency-ms' -Path $path) { $extra += '--latency-ms', '20' }
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] [string] $Name,
        [string] $Path = (Get-DataverseSimPath)
    )
    if ($null -eq $script:SimHelp) { $script:SimHelp = @{} }
    if (-not $script:SimHelp.ContainsKey($Path)) {
        $text = ''
        if (Test-Path -LiteralPath $Path -PathType Leaf) {
            try { $text = (& $Path --help 2>&1 | ForEach-Object { [string]$_ }) -join "`n" } catch { $text = '' }
        }
        $script:SimHelp[$Path] = $text
    }
    $script:SimHelp[$Path] -match ('(^|\s)' + [regex]::Escape($Name) + '(\s|=|$)')
}

function Start-DataverseSim {
    <#
    .SYNOPSIS
    Starts the simulator and waits for its JSON ready line; returns Url, TenantId, OrganizationId, Ready, Process.
    .EXAMPLE
    $sim = Start-DataverseSim -Mailboxes 50 -Queues 5
    .EXAMPLE
    $sim = Start-DataverseSim -ArgumentList '--mailboxes', '10', '--latency-ms', '20'
    .EXAMPLE
    $sim = Start-DataverseSim -Mailboxes 20 -Queues 3 -TestDelayMs 300
    .EXAMPLE
    $sim = Start-DataverseSim -Mailboxes 40 -SyncIntervalMs 500 -TransientAttempts 3 -HealthMix 'license=0.1,owner-mismatch=0.05,timeout=0.1'
    #>
    [CmdletBinding()]
    param(
        [int] $Mailboxes = 50,
        [int] $Queues = 5,
        # Delay of the simulated asynchronous Test & Enable (passed only when the simulator supports --test-delay-ms).
        [int] $TestDelayMs = -1,
        # Interval of the simulated synchronization cycle (--sync-interval-ms; 0 turns it off).
        [ValidateRange(0, 2147483647)] [int] $SyncIntervalMs = -1,
        # Consecutive transient failures before a mailbox is disabled (--transient-attempts, 1 or more).
        [ValidateRange(1, 2147483647)] [int] $TransientAttempts = -1,
        # Seeded failures, kind=share[,kind=share...] (--health-mix; see the simulator README, "Day two").
        [ValidateNotNullOrEmpty()] [string] $HealthMix = 'none',
        [string[]] $ArgumentList = @(),
        [string] $Path = (Get-DataverseSimPath),
        [int] $TimeoutSeconds = 30
    )

    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        throw "The simulator binary '$Path' does not exist: build it with ./build.ps1 -Task Build (cargo build --release --workspace)."
    }
    $arguments = @('--mailboxes', [string]$Mailboxes, '--queues', [string]$Queues)
    if ($TestDelayMs -ge 0 -and (Test-DataverseSimOption -Name '--test-delay-ms' -Path $Path)) { $arguments += @('--test-delay-ms', [string]$TestDelayMs) }
    # The day-two options are passed only when given; a binary without them fails clearly rather than ignoring them.
    if ($PSBoundParameters.ContainsKey('SyncIntervalMs')) { $arguments += @('--sync-interval-ms', [string]$SyncIntervalMs) }
    if ($PSBoundParameters.ContainsKey('TransientAttempts')) { $arguments += @('--transient-attempts', [string]$TransientAttempts) }
    if ($PSBoundParameters.ContainsKey('HealthMix')) { $arguments += @('--health-mix', $HealthMix) }
    $arguments += $ArgumentList
    $quoted = @(foreach ($a in $arguments) { if ($a -match '[\s"]') { '"' + ($a -replace '"', '\"') + '"' } else { $a } })

    $startInfo = New-Object System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = $Path
    $startInfo.Arguments = ($quoted -join ' ')
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.CreateNoWindow = $true
    $process = [System.Diagnostics.Process]::Start($startInfo)
    # Drain stderr in the background (a task, not a PowerShell event handler) so the pipe never fills.
    $stderrTask = $process.StandardError.ReadToEndAsync()

    # The ready document is the first stdout line that is a JSON object (a plain "listening on …" line may come first).
    $ready = $null
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($null -eq $ready) {
        $left = $deadline - [DateTime]::UtcNow
        if ($left -le [TimeSpan]::Zero) { break }
        $lineTask = $process.StandardOutput.ReadLineAsync()
        if (-not $lineTask.Wait($left)) { break }
        $line = $lineTask.Result
        if ($null -eq $line) { break }
        if ($line.TrimStart().StartsWith('{')) {
            try { $ready = $line | ConvertFrom-Json } catch { $ready = $null }
            if ($null -ne $ready -and -not $ready.PSObject.Properties['url']) { $ready = $null }
        }
    }
    if ($null -eq $ready -or -not $ready.PSObject.Properties['url']) {
        $stderr = ''
        if (-not $process.HasExited) { try { $process.Kill() } catch { Write-Debug $_.Exception.Message } }
        [void]$process.WaitForExit(5000)
        if ($stderrTask.Wait(2000)) { $stderr = $stderrTask.Result }
        $exitCode = 'none'
        if ($process.HasExited) { $exitCode = $process.ExitCode }
        $process.Dispose()
        throw "The simulator '$Path' did not print its ready line within $TimeoutSeconds s (exit code $exitCode). stderr: $stderr"
    }
    # Keep draining stdout too.
    $stdoutTask = $process.StandardOutput.ReadToEndAsync()

    $tenant = $null
    if ($ready.PSObject.Properties['tenant_id']) { $tenant = [string]$ready.tenant_id }
    $organization = $null
    if ($ready.PSObject.Properties['organization_id']) { $organization = [string]$ready.organization_id }
    [pscustomobject]@{
        PSTypeName     = 'CrmSync.DataverseSim'
        Url            = ([string]$ready.url).TrimEnd('/')
        TenantId       = $tenant
        OrganizationId = $organization
        Ready          = $ready
        Process        = $process
        StdoutTask     = $stdoutTask
        StderrTask     = $stderrTask
    }
}

function Stop-DataverseSim {
    <#
    .SYNOPSIS
    Stops a simulator started by Start-DataverseSim (kills the process it started, by its object).
    .EXAMPLE
    Stop-DataverseSim -Simulator $sim
    .EXAMPLE
    $sim | Stop-DataverseSim
    #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] [AllowNull()] [object] $Simulator)
    process {
        if ($null -eq $Simulator -or $null -eq $Simulator.Process) { return }
        $process = $Simulator.Process
        try {
            if (-not $process.HasExited) {
                try { $process.StandardInput.Close() } catch { Write-Debug $_.Exception.Message }
                if (-not $process.WaitForExit(500)) {
                    $process.Kill()
                    [void]$process.WaitForExit(5000)
                }
            }
        }
        finally {
            $process.Dispose()
        }
    }
}

Export-ModuleMember -Function Get-DataverseSimPath, Test-DataverseSimOption, Start-DataverseSim, Stop-DataverseSim
