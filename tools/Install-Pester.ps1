<#
.SYNOPSIS
Makes Pester 5 importable for the tests (build.ps1 -Task Test calls it).

.DESCRIPTION
Uses, in this order: a Pester already restored under <ToolsDir>/Modules, any Pester 5 on
PSModulePath, Install-Module from the PowerShell Gallery (when reachable), and finally a restore
from NuGet with a throwaway project (dotnet restore), laid out as <ToolsDir>/Modules/Pester/<Version>.
<ToolsDir>/Modules is put first on PSModulePath of this process when it holds Pester. Throws when
no Pester 5 can be found or installed.

.EXAMPLE
./tools/Install-Pester.ps1 -ToolsDir ./.tools
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ToolsDir,
    [string] $Version = '5.7.1'
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Find-Pester5 {
    Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0' } | Select-Object -First 1
}

function Add-ToolsModulePath([string] $Folder) {
    if (-not (($env:PSModulePath -split [System.IO.Path]::PathSeparator) -contains $Folder)) {
        $env:PSModulePath = $Folder + [System.IO.Path]::PathSeparator + $env:PSModulePath
    }
}

function Install-PesterFromNuGet {
    # Restores Pester from NuGet with a throwaway project and lays it out as <ToolsDir>/Modules/Pester/<Version>.
    $work = Join-Path $ToolsDir 'pester-restore'
    $packages = Join-Path $ToolsDir 'nuget'
    New-Item -ItemType Directory -Path $work -Force | Out-Null
    $project = @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$Version]" /></ItemGroup>
</Project>
"@
    $projectFile = Join-Path $work 'pester-restore.csproj'
    [System.IO.File]::WriteAllText($projectFile, $project, (New-Object System.Text.UTF8Encoding($false)))
    $restoreArgs = @('restore', $projectFile, '--packages', $packages, '--nologo')
    Write-Host ("dotnet " + ($restoreArgs -join ' ')) -ForegroundColor DarkGray
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        # Stderr merged and written as text (Windows PowerShell 5.1 would turn it into errors).
        & dotnet @restoreArgs 2>&1 | ForEach-Object { Write-Host ([string]$_) }
        $code = $LASTEXITCODE
    }
    finally {
        $ErrorActionPreference = $previous
    }
    if ($code -ne 0) { throw "dotnet restore (Pester) failed with exit code $code." }
    $source = Join-Path $packages "pester/$Version/tools"
    if (-not (Test-Path -LiteralPath (Join-Path $source 'Pester.psd1'))) { throw "Pester was restored but '$source/Pester.psd1' is missing." }
    $destination = Join-Path $ToolsDir "Modules/Pester/$Version"
    New-Item -ItemType Directory -Path $destination -Force | Out-Null
    Copy-Item -Path (Join-Path $source '*') -Destination $destination -Recurse -Force
}

$toolsModules = Join-Path $ToolsDir 'Modules'
if (Test-Path -LiteralPath (Join-Path $toolsModules 'Pester')) { Add-ToolsModulePath $toolsModules }
$found = Find-Pester5
if ($null -eq $found) {
    $galleryReachable = $false
    try {
        $null = Invoke-WebRequest -Uri 'https://www.powershellgallery.com/api/v2/' -Method Head -TimeoutSec 5 -UseBasicParsing
        $galleryReachable = $true
    }
    catch {
        Write-Host 'PowerShell Gallery not reachable; restoring Pester from NuGet.'
    }
    if ($galleryReachable) {
        try {
            Install-Module -Name Pester -MinimumVersion 5.0 -Scope CurrentUser -Force -SkipPublisherCheck -AllowClobber
        }
        catch {
            Write-Host "Install-Module Pester failed ($($_.Exception.Message)); restoring Pester from NuGet."
        }
    }
    $found = Find-Pester5
    if ($null -eq $found) {
        Install-PesterFromNuGet
        Add-ToolsModulePath $toolsModules
        $found = Find-Pester5
    }
}
if ($null -eq $found) { throw 'Pester 5 could not be installed.' }
Write-Host "Pester $($found.Version) found at $($found.ModuleBase)"
