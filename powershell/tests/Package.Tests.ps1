# The package as users get it: the .nupkg and the Azure Automation .zip written by
# ./build.ps1 -Task Package (or -Task Test) hold what the manifest names and nothing of the build or
# the tests; the .nupkg installs by name from a local PowerShell resource repository, imports by name
# in a new process and works against the simulator. CRMSYNC_PACKAGE_DIR points at another out/
# folder (the release pipeline's assembled package).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Add-Type -AssemblyName System.IO.Compression.FileSystem

    $script:PackageDir = Join-Path $RepoRoot 'out'
    if (-not [string]::IsNullOrEmpty($env:CRMSYNC_PACKAGE_DIR)) { $script:PackageDir = $env:CRMSYNC_PACKAGE_DIR }
    $script:SourceModule = Join-Path $RepoRoot 'powershell/CrmServerSideSync'
    $script:SourceManifest = Import-PowerShellDataFile -Path (Join-Path $SourceModule 'CrmServerSideSync.psd1')
    $script:Version = $SourceManifest.ModuleVersion

    function Get-ArchiveEntry([string] $Path) {
        # Entry names with '/' separators (NuGet escapes nothing in this module's names).
        $archive = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try { @($archive.Entries | ForEach-Object { $_.FullName.Replace('\', '/') }) }
        finally { $archive.Dispose() }
    }

    function Get-ManifestFile {
        # Every file the manifest itself names, relative to the module folder.
        $names = New-Object System.Collections.Generic.List[string]
        $names.Add('CrmServerSideSync.psd1')
        foreach ($key in 'RootModule', 'RequiredAssemblies', 'FormatsToProcess', 'TypesToProcess', 'ScriptsToProcess', 'NestedModules', 'FileList') {
            if ($SourceManifest.ContainsKey($key)) { foreach ($v in @($SourceManifest[$key])) { $names.Add(([string]$v).Replace('\', '/')) } }
        }
        foreach ($folder in 'Public', 'Private') {
            foreach ($f in Get-ChildItem -Path (Join-Path $SourceModule $folder) -Filter *.ps1 -File) { $names.Add("$folder/$($f.Name)") }
        }
        $names.Add("runtimes/$([CrmSync.Interop.Native]::CurrentRid)/native/$([CrmSync.Interop.Native]::NativeFileName)")
        $names
    }

    $script:Nupkg = Join-Path $PackageDir "CrmServerSideSync.$Version.nupkg"
    $script:Zip = Join-Path $PackageDir 'CrmServerSideSync.zip'
    # The packaged interop assembly names the RID and the library file of this process (used
    # above); taken from the zip, since the release pipeline's install jobs have no build. A folder
    # of its own outside TestDrive: Windows keeps a loaded assembly's file locked.
    if (-not ('CrmSync.Interop.Native' -as [type])) {
        $unpacked = Join-Path ([System.IO.Path]::GetTempPath()) ('crmsync-package-' + [guid]::NewGuid().ToString('N'))
        [System.IO.Compression.ZipFile]::ExtractToDirectory($Zip, $unpacked)
        Add-Type -Path (Join-Path $unpacked 'CrmServerSideSync/lib/CrmSync.Interop.dll')
    }
    # Build, test and source files that must never ship.
    $script:Forbidden = '(^|/)(tests?|bin|obj|target|\.tools|\.git|\.github)/|\.Tests\.ps1$|(^|/)(build\.ps1|TestHelpers\.ps1|SimulatorHelper\.psm1)$|\.(cs|csproj|rs|toml|pdb|rlib|d|sh|cjs)$'
}

Describe 'The .nupkg' {
    BeforeAll {
        $entries = Get-ArchiveEntry -Path $Nupkg
    }

    It 'is named after the module and its version, with a nuspec for that version' {
        Test-Path -LiteralPath $Nupkg -PathType Leaf | Should -BeTrue
        $entries | Should -Contain 'CrmServerSideSync.nuspec'
        $archive = [System.IO.Compression.ZipFile]::OpenRead($Nupkg)
        try {
            $reader = New-Object System.IO.StreamReader (($archive.Entries | Where-Object { $_.FullName -eq 'CrmServerSideSync.nuspec' }).Open())
            [xml]$nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $archive.Dispose() }
        $nuspec.package.metadata.id | Should -Be 'CrmServerSideSync'
        $nuspec.package.metadata.version | Should -Be $Version
        $nuspec.package.metadata.tags | Should -Match 'PSModule'
        $nuspec.package.metadata.description | Should -Not -BeNullOrEmpty
    }

    It 'holds every file the manifest names, every function file and the native library of this platform' {
        foreach ($name in Get-ManifestFile) { $entries | Should -Contain $name }
    }

    It 'holds no test, build or source file' {
        @($entries | Where-Object { $_ -match $Forbidden }) | Should -BeNullOrEmpty
    }
}

Describe 'The Azure Automation .zip' {
    BeforeAll {
        $entries = Get-ArchiveEntry -Path $Zip
    }

    It 'has the module folder, named after the module, at its root and nothing beside it' {
        $entries | Should -Contain 'CrmServerSideSync/CrmServerSideSync.psd1'
        @($entries | Where-Object { -not $_.StartsWith('CrmServerSideSync/') }) | Should -BeNullOrEmpty
    }

    It 'holds the same module files as the .nupkg and no test or build file' {
        foreach ($name in Get-ManifestFile) { $entries | Should -Contain "CrmServerSideSync/$name" }
        @($entries | Where-Object { $_ -match $Forbidden }) | Should -BeNullOrEmpty
    }
}

Describe 'Installing from a local PowerShell resource repository' {
    BeforeAll {
        $work = Join-Path ([System.IO.Path]::GetTempPath()) ('crmsync-install-' + [guid]::NewGuid().ToString('N'))
        $repository = Join-Path $work 'repository'
        $modules = Join-Path $work 'Modules'
        $isolatedHome = Join-Path $work 'home'
        foreach ($dir in $repository, $modules, $isolatedHome) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
        Copy-Item -LiteralPath $Nupkg -Destination $repository
        # A throwaway HOME keeps the repository registration (PSResourceRepository.xml) out of the
        # user's own settings on Linux and macOS; on Windows the unique name is unregistered at the end.
        # The folders must exist: .NET answers an empty LocalApplicationData for a missing one.
        $isolated = @{ HOME = $isolatedHome }
        foreach ($pair in @(@('XDG_DATA_HOME', 'data'), @('XDG_CONFIG_HOME', 'config'), @('XDG_CACHE_HOME', 'cache'))) {
            $isolated[$pair[0]] = (New-Item -ItemType Directory -Path (Join-Path $isolatedHome $pair[1]) -Force).FullName
        }
        $repositoryName = 'crmsync-local-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $installScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerShell.PSResourceGet
Register-PSResourceRepository -Name '$repositoryName' -Uri '$($repository -replace "'", "''")' -Trusted
try {
    `$found = Find-PSResource -Name CrmServerSideSync -Repository '$repositoryName'
    Save-PSResource -Name CrmServerSideSync -Repository '$repositoryName' -Path '$($modules -replace "'", "''")' -TrustRepository
    'FOUND:' + `$found.Name + ' ' + `$found.Version
}
finally {
    Unregister-PSResourceRepository -Name '$repositoryName'
}
"@
        $install = Invoke-ChildPowerShell -Script $installScript -Environment $isolated
        $sim = Start-TestSimulator
    }
    AfterAll {
        Stop-DataverseSim -Simulator $sim
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'finds the package by name and installs it into a fresh module path' {
        $install.ExitCode | Should -Be 0 -Because $install.Output
        $install.Output | Should -Match "FOUND:CrmServerSideSync $([regex]::Escape($Version))"
        if ([System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Win32NT) {
            # The registration went to the throwaway HOME, not to the user's settings or the current folder.
            Test-Path -LiteralPath (Join-Path $isolated['XDG_DATA_HOME'] 'PSResourceGet/PSResourceRepository.xml') | Should -BeTrue
        }
        Test-Path -LiteralPath (Join-Path $modules "CrmServerSideSync/$Version/CrmServerSideSync.psd1") -PathType Leaf | Should -BeTrue
    }

    It 'imports by name in a new process, loads its own native library and lists the organization and mailboxes of the simulator' {
        $useScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module CrmServerSideSync
`$module = Get-Module CrmServerSideSync
`$connection = Connect-CrmOnline -Url '$($sim.Url)' -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)
`$organization = Get-CrmOrganization
`$mailboxes = @(Get-CrmMailbox)
'MODULE:' + `$module.ModuleBase
'NATIVE:' + [CrmSync.Interop.Native]::LoadedPath
'ORG:' + `$organization.OrganizationId
'MAILBOXES:' + `$mailboxes.Count
"@
        $searchPath = $modules + [System.IO.Path]::PathSeparator + [System.Environment]::GetEnvironmentVariable('PSModulePath')
        $environment = @{ PSModulePath = $searchPath; CRMSYNC_NATIVE_PATH = $null }
        $result = Invoke-ChildPowerShell -Script $useScript -Environment $environment
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $installed = [System.IO.Path]::GetFullPath((Join-Path $modules "CrmServerSideSync/$Version"))
        $result.Output | Should -Match ('MODULE:' + [regex]::Escape($installed))
        $result.Output | Should -Match ('NATIVE:' + [regex]::Escape($installed) + '.runtimes.' + [regex]::Escape([CrmSync.Interop.Native]::CurrentRid))
        $result.Output | Should -Match ('ORG:' + [regex]::Escape($sim.OrganizationId))
        $result.Output | Should -Match (('(?m)^MAILBOXES:' + ($SimMailboxes + $SimQueues) + '\s*$'))
    }
}
