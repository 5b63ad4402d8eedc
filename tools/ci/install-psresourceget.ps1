# CI: Microsoft.PowerShell.PSResourceGet for Windows PowerShell 5.1, which ships only PowerShellGet 1
# (build.ps1 -Task Package and powershell/tests/Package.Tests.ps1 use Compress-/Publish-/Save-PSResource).
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

if (Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet) { return }
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
Install-PackageProvider -Name NuGet -MinimumVersion 2.8.5.201 -Scope CurrentUser -Force | Out-Null
Install-Module -Name Microsoft.PowerShell.PSResourceGet -Scope CurrentUser -Force -AllowClobber
Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet | Select-Object -First 1 | ForEach-Object { Write-Host "PSResourceGet $($_.Version)" }
