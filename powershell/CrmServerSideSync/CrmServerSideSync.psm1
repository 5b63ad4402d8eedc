# CrmServerSideSync root module: dot-sources one function per file, then loads the native library.
Set-StrictMode -Version 2.0

$script:ExpectedAbiVersion = [uint32]1
$script:DefaultConnection = $null

foreach ($folder in @('Private', 'Public')) {
    $files = @(Get-ChildItem -Path (Join-Path $PSScriptRoot $folder) -Filter '*.ps1' -File -ErrorAction SilentlyContinue)
    foreach ($file in $files) {
        . $file.FullName
    }
}

# Terminates the import with a helpful message when the native library is missing or mismatched.
# (throw, not a statement-terminating error, so that Import-Module itself fails).
try {
    Initialize-CrmNative -ModuleRoot $PSScriptRoot -ExpectedAbiVersion $script:ExpectedAbiVersion
}
catch {
    throw $_
}

$ExecutionContext.SessionState.Module.OnRemove = {
    $connection = $script:DefaultConnection
    $script:DefaultConnection = $null
    if ($null -ne $connection) {
        try { $connection.Client.Dispose() } catch { Write-Debug "Dispose on module removal failed: $($_.Exception.Message)" }
    }
}

Export-ModuleMember -Function @(Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1' -File | ForEach-Object { $_.BaseName })
