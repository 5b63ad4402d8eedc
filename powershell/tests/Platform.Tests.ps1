# Which native library the loader picks on every platform (CrmSync.Interop.RuntimeIdentifier, a pure
# function, so every RID is tested here), and what importing says when that library is absent.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Interop = Join-Path (Split-Path $ModuleManifest) 'lib/CrmSync.Interop.dll'
    if (-not ('CrmSync.Interop.RuntimeIdentifier' -as [type])) { Add-Type -Path $Interop }
}

Describe 'RuntimeIdentifier.Select' {
    It '<Os> with a <Process> process on a <System> OS loads <Rid>' -ForEach @(
        @{ Os = 'windows'; Process = 'x64'; System = 'x64'; Rid = 'win-x64' }
        @{ Os = 'windows'; Process = 'arm64'; System = 'arm64'; Rid = 'win-arm64' }
        @{ Os = 'linux'; Process = 'x64'; System = 'x64'; Rid = 'linux-x64' }
        @{ Os = 'linux'; Process = 'arm64'; System = 'arm64'; Rid = 'linux-arm64' }
        @{ Os = 'osx'; Process = 'x64'; System = 'x64'; Rid = 'osx-x64' }
        @{ Os = 'osx'; Process = 'arm64'; System = 'arm64'; Rid = 'osx-arm64' }
        # Emulation: the library must match the process, not the machine.
        @{ Os = 'windows'; Process = 'x64'; System = 'arm64'; Rid = 'win-x64' }
        @{ Os = 'osx'; Process = 'x64'; System = 'arm64'; Rid = 'osx-x64' }
        # Windows spells x64 AMD64 (PROCESSOR_ARCHITECTURE); case does not matter.
        @{ Os = 'windows'; Process = 'AMD64'; System = 'ARM64'; Rid = 'win-x64' }
        @{ Os = 'Windows'; Process = 'ARM64'; System = 'ARM64'; Rid = 'win-arm64' }
        # A 32-bit process gets a RID the module does not ship, so the loader names it as missing.
        @{ Os = 'windows'; Process = 'x86'; System = 'x64'; Rid = 'win-x86' }
    ) {
        [CrmSync.Interop.RuntimeIdentifier]::Select($Os, $Process, $System) | Should -BeExactly $Rid
    }

    It 'ships exactly the six supported RIDs' {
        @([CrmSync.Interop.RuntimeIdentifier]::Shipped) | Should -Be @('win-x64', 'win-arm64', 'linux-x64', 'linux-arm64', 'osx-x64', 'osx-arm64')
    }

    It 'refuses an unknown <What>' -ForEach @(
        @{ What = 'operating system'; Os = 'freebsd'; Process = 'x64'; System = 'x64'; Pattern = "operating system 'freebsd'" }
        @{ What = 'process architecture'; Os = 'linux'; Process = 's390x'; System = 's390x'; Pattern = "process architecture 's390x'" }
        @{ What = 'null architecture'; Os = 'linux'; Process = $null; System = 'x64'; Pattern = "process architecture ''" }
        @{ What = 'OS architecture'; Os = 'linux'; Process = 'x64'; System = 'mips'; Pattern = "operating system architecture 'mips'" }
    ) {
        { [CrmSync.Interop.RuntimeIdentifier]::Select($Os, $Process, $System) } | Should -Throw -ExpectedMessage "*$Pattern*"
    }

    It 'describes an emulated x64 process on arm64 Windows' {
        [CrmSync.Interop.RuntimeIdentifier]::Describe('windows', 'AMD64', 'ARM64') | Should -BeExactly 'Windows, x64 process on an arm64 operating system (emulated)'
        [CrmSync.Interop.RuntimeIdentifier]::Describe('osx', 'arm64', 'arm64') | Should -BeExactly 'macOS arm64'
    }
}

Describe 'RuntimeIdentifier.NativeFileName' {
    It '<Rid> uses <File>' -ForEach @(
        @{ Rid = 'win-x64'; File = 'crmsync.dll' }
        @{ Rid = 'win-arm64'; File = 'crmsync.dll' }
        @{ Rid = 'linux-x64'; File = 'libcrmsync.so' }
        @{ Rid = 'linux-arm64'; File = 'libcrmsync.so' }
        @{ Rid = 'osx-x64'; File = 'libcrmsync.dylib' }
        @{ Rid = 'osx-arm64'; File = 'libcrmsync.dylib' }
    ) {
        [CrmSync.Interop.RuntimeIdentifier]::NativeFileName($Rid) | Should -BeExactly $File
    }

    It 'refuses an unknown RID' {
        { [CrmSync.Interop.RuntimeIdentifier]::NativeFileName('freebsd-x64') } | Should -Throw -ExpectedMessage "*'freebsd-x64'*"
    }
}

Describe 'This process' {
    It 'picks the RID of its own operating system and process architecture' {
        $os = 'linux'
        if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) { $os = 'win' }
        elseif ([System.Runtime.InteropServices.RuntimeInformation]::IsOSPlatform([System.Runtime.InteropServices.OSPlatform]::OSX)) { $os = 'osx' }
        $arch = ([string][System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture).ToLowerInvariant()
        [CrmSync.Interop.Native]::CurrentRid | Should -BeExactly "$os-$arch"
        [CrmSync.Interop.Native]::Platform | Should -Not -BeNullOrEmpty
    }
}

Describe 'A module without the library of this platform' {
    It 'fails to import, naming the file, the RID, the platform and the RIDs it carries' {
        $copy = Join-Path $TestDrive 'CrmServerSideSync'
        $source = Split-Path $ModuleManifest
        New-Item -ItemType Directory -Path $copy | Out-Null
        foreach ($item in 'CrmServerSideSync.psd1', 'CrmServerSideSync.psm1', 'CrmServerSideSync.Format.ps1xml', 'Public', 'Private', 'lib') {
            Copy-Item -LiteralPath (Join-Path $source $item) -Destination $copy -Recurse
        }
        # Another platform's library only (the content does not matter: it is never loaded).
        $rid = [CrmSync.Interop.Native]::CurrentRid
        $other = 'win-arm64'
        if ($rid -eq 'win-arm64') { $other = 'linux-x64' }
        $otherDir = New-Item -ItemType Directory -Path (Join-Path $copy "runtimes/$other/native") -Force
        Set-Content -LiteralPath (Join-Path $otherDir.FullName ([CrmSync.Interop.RuntimeIdentifier]::NativeFileName($other))) -Value 'other platform'
        $script = @"
try { Import-Module '$((Join-Path $copy 'CrmServerSideSync.psd1') -replace "'", "''")' -ErrorAction Stop; 'IMPORTED' }
catch { 'IMPORT FAILED: ' + `$_.Exception.Message; exit 3 }
"@
        $result = Invoke-ChildPowerShell -Script $script -Environment @{ CRMSYNC_NATIVE_PATH = $null }
        $result.ExitCode | Should -Be 3 -Because $result.Output
        $file = [CrmSync.Interop.Native]::NativeFileName
        $result.Output | Should -Match ([regex]::Escape("native library $file for $rid ($([CrmSync.Interop.Native]::Platform))"))
        $result.Output | Should -Match ([regex]::Escape([System.IO.Path]::Combine($copy, 'runtimes', $rid, 'native', $file)))
        $result.Output | Should -Match 'the file does not exist'
        $result.Output | Should -Match ([regex]::Escape("carries native libraries for: $other."))
    }
}
