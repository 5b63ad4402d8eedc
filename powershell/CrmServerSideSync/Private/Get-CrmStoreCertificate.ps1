function Get-CrmStoreCertificate {
    <#
    .SYNOPSIS
    Finds a certificate by thumbprint in Cert:\CurrentUser\My, then Cert:\LocalMachine\My (Windows only)
    and exports it with its private key as a PFX protected by a random one-time password.
    Returns @{ PfxBase64 = <SecureString>; Password = <SecureString>; Location = 'Cert:\…'; Subject = '…' }.
    Every failure is a terminating error of -Cmdlet that says what to do instead.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [string] $Thumbprint
    )
    $pathAdvice = 'Use -CertificatePath with a PFX file that contains the certificate and its private key (and -CertificatePassword) instead.'
    if ([System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Win32NT) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.PlatformNotSupportedException ("-CertificateThumbprint reads the Windows certificate store (Cert:\CurrentUser\My, Cert:\LocalMachine\My), which does not exist on this platform. $pathAdvice")),
            'CrmSync.CertificateStoreNotSupported', [System.Management.Automation.ErrorCategory]::NotImplemented, $Thumbprint)
        $Cmdlet.ThrowTerminatingError($record)
    }

    $normalized = ($Thumbprint -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
    if ($normalized.Length -ne 40) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.ArgumentException ("'$Thumbprint' is not a certificate thumbprint (40 hexadecimal digits, as shown by Get-ChildItem Cert:\CurrentUser\My).")),
            'CrmSync.InvalidCertificateThumbprint', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Thumbprint)
        $Cmdlet.ThrowTerminatingError($record)
    }

    $certificate = $null
    $location = $null
    foreach ($storeLocation in @('CurrentUser', 'LocalMachine')) {
        $store = New-Object System.Security.Cryptography.X509Certificates.X509Store ('My', [System.Security.Cryptography.X509Certificates.StoreLocation]$storeLocation)
        try {
            $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]'ReadOnly, OpenExistingOnly')
            $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $normalized, $false)
            if ($found.Count -gt 0) {
                $certificate = $found[0]
                $location = "Cert:\$storeLocation\My"
            }
        }
        catch {
            Write-Verbose "The certificate store Cert:\$storeLocation\My could not be opened: $($_.Exception.Message)"
        }
        finally {
            $store.Close()
        }
        if ($null -ne $certificate) { break }
    }
    if ($null -eq $certificate) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.Management.Automation.ItemNotFoundException ("No certificate with thumbprint $normalized was found in Cert:\CurrentUser\My or Cert:\LocalMachine\My. Check the thumbprint (Get-ChildItem Cert:\CurrentUser\My, Cert:\LocalMachine\My), or $($pathAdvice.Substring(0,1).ToLowerInvariant() + $pathAdvice.Substring(1))")),
            'CrmSync.CertificateNotFound', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $normalized)
        $Cmdlet.ThrowTerminatingError($record)
    }
    if (-not $certificate.HasPrivateKey) {
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.InvalidOperationException ("The certificate $normalized ($($certificate.Subject)) in $location has no private key on this computer, so it cannot sign in. Import the PFX with its private key into Cert:\CurrentUser\My, or $($pathAdvice.Substring(0,1).ToLowerInvariant() + $pathAdvice.Substring(1))")),
            'CrmSync.CertificateNoPrivateKey', [System.Management.Automation.ErrorCategory]::InvalidOperation, $normalized)
        $Cmdlet.ThrowTerminatingError($record)
    }

    $password = [CrmSync.Interop.CrmSecrets]::NewRandomPassword(32)
    try {
        $pfx = [CrmSync.Interop.CrmSecrets]::ExportPfxBase64($certificate, $password)
    }
    catch {
        $password.Dispose()
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.InvalidOperationException ("The private key of certificate $normalized ($($certificate.Subject)) in $location cannot be exported (it was imported as non-exportable, or is held by a smart card or TPM), and crmsync signs with the key itself. Export the certificate with its private key to a PFX file (on the computer where it was created, or re-import it as exportable) and connect with -CertificatePath <file.pfx> -CertificatePassword <SecureString>.", $_.Exception)),
            'CrmSync.CertificateKeyNotExportable', [System.Management.Automation.ErrorCategory]::InvalidOperation, $normalized)
        $Cmdlet.ThrowTerminatingError($record)
    }
    @{ PfxBase64 = $pfx; Password = $password; Location = $location; Subject = $certificate.Subject; Thumbprint = $normalized }
}
