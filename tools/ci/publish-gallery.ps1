# CI: publishes the .nupkg built by the package job to the PowerShell Gallery. The API key comes from
# the environment (repository secret PSGALLERY_API_KEY) and is never written out.
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

if ([string]::IsNullOrEmpty($env:PSGALLERY_API_KEY)) { throw 'The repository secret PSGALLERY_API_KEY is not set.' }
$root = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
$nupkg = @(Get-ChildItem -Path (Join-Path $root 'out') -Filter 'CrmServerSideSync.*.nupkg')
if ($nupkg.Count -ne 1) { throw "Expected one CrmServerSideSync .nupkg in out/, found $($nupkg.Count)." }
# -NupkgPath (PSResourceGet 1.1+) publishes the very package the install jobs tested.
Publish-PSResource -NupkgPath $nupkg[0].FullName -Repository PSGallery -ApiKey $env:PSGALLERY_API_KEY
Write-Host "Published $($nupkg[0].Name) to the PowerShell Gallery."
