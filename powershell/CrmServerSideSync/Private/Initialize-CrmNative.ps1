function Initialize-CrmNative {
    <#
    .SYNOPSIS
    Loads the crmsync native library for this platform by absolute path and checks its ABI version.
    .DESCRIPTION
    The library is looked up under <module>/runtimes/<rid>/native/<file>, or at the path in the
    CRMSYNC_NATIVE_PATH environment variable (development override). Any problem throws a
    terminating error that says what was found, what was expected and what to do.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $ModuleRoot,
        [Parameter(Mandatory)] [uint32] $ExpectedAbiVersion
    )

    $remedy = 'Reinstall the module (Install-Module CrmServerSideSync -Force), or from a source checkout rebuild it with ./build.ps1 -Task Build.'
    try {
        $rid = [CrmSync.Interop.Native]::CurrentRid
        $platform = [CrmSync.Interop.Native]::Platform
        $fileName = [CrmSync.Interop.Native]::NativeFileName
    }
    catch {
        $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.PlatformNotSupportedException ("CrmServerSideSync has no native library for this platform: $($_.Exception.Message)", $_.Exception)),
            'CrmSync.PlatformNotSupported', [System.Management.Automation.ErrorCategory]::NotImplemented, $null)))
    }
    # The RIDs this copy of the module carries, named when the one for this platform is missing.
    $runtimes = [System.IO.Path]::Combine($ModuleRoot, 'runtimes')
    $shipped = @()
    if ([System.IO.Directory]::Exists($runtimes)) { $shipped = @([System.IO.Directory]::GetDirectories($runtimes) | ForEach-Object { [System.IO.Path]::GetFileName($_) } | Sort-Object) }
    $carried = 'This module carries native libraries for: ' + $(if ($shipped.Count -gt 0) { $shipped -join ', ' } else { 'none' }) + '.'
    $override = $env:CRMSYNC_NATIVE_PATH
    if (-not [string]::IsNullOrEmpty($override)) {
        $source = 'the CRMSYNC_NATIVE_PATH environment variable'
        $path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($override)
        $remedy = 'Point CRMSYNC_NATIVE_PATH at a crmsync library built from the same version as the module (./build.ps1 -Task Build writes target/release/' + $fileName + '), or remove the variable to use the library shipped in the module.'
    }
    else {
        $source = 'the module folder'
        $path = [System.IO.Path]::Combine($ModuleRoot, 'runtimes', $rid, 'native', $fileName)
    }

    try {
        [CrmSync.Interop.Native]::Load($path, $ExpectedAbiVersion)
    }
    catch {
        $ex = $_.Exception
        while ($null -ne $ex -and -not ($ex -is [CrmSync.Interop.CrmSyncNativeLoadException]) -and $null -ne $ex.InnerException) {
            $ex = $ex.InnerException
        }
        if ($ex -is [CrmSync.Interop.CrmSyncNativeLoadException]) {
            if ($null -ne $ex.FoundAbiVersion) { $found = "ABI version $($ex.FoundAbiVersion)" }
            elseif (-not [System.IO.File]::Exists($ex.LibraryPath)) { $found = 'no file at that path' }
            else { $found = 'a file that is not a loadable crmsync library' }
            $message = "CrmServerSideSync cannot load its native library $fileName for $rid ($platform) from $source. Path: '$($ex.LibraryPath)'. Problem: $($ex.Reason). Expected: crmsync ABI version $ExpectedAbiVersion. Found: $found. $carried $remedy"
        }
        else {
            $message = "CrmServerSideSync cannot load its native library $fileName for $rid ($platform) from $source. Path: '$path'. Problem: $($_.Exception.Message). Expected: crmsync ABI version $ExpectedAbiVersion. $carried $remedy"
        }
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.IO.FileLoadException ($message, $_.Exception)),
            'CrmSync.NativeLibraryUnavailable',
            [System.Management.Automation.ErrorCategory]::ResourceUnavailable,
            $path)
        $PSCmdlet.ThrowTerminatingError($record)
    }
    Write-Verbose "Loaded crmsync native library '$path' (ABI version $([CrmSync.Interop.Native]::AbiVersion))."
}
