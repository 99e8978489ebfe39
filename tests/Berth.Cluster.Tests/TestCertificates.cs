using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Berth.Cluster.Tests;

/// <summary>
/// A cluster's certificates made in the test, as docs/cluster.md's openssl commands make them: a CA, and node certificates it
/// signs (server and client use, the node's address as subject alternative name), written as PEM files or PKCS#12.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    /// <summary>The extended key usage OID serverAuth.</summary>
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    /// <summary>The extended key usage OID clientAuth.</summary>
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>The extended key usage OID codeSigning.</summary>
    public const string CodeSigning = "1.3.6.1.5.5.7.3.3";

    private readonly X509Certificate2 _authority;

    private TestCertificates(string directory, string name, X509Certificate2 authority)
    {
        Directory = directory;
        _authority = authority;
        CaPath = Path.Combine(directory, $"{name}-ca.pem");
        File.WriteAllText(CaPath, authority.ExportCertificatePem());
    }

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>The CA's certificate (PEM), for <c>Berth:Cluster:Tls:CaPath</c>.</summary>
    public string CaPath { get; }

    /// <summary>A new CA named <paramref name="name"/>, its files in <paramref name="directory"/>.</summary>
    public static TestCertificates CreateAuthority(string directory, string name)
    {
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name} cluster CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new TestCertificates(directory, name, request.CreateSelfSigned(now.AddHours(-1), now.AddDays(2)));
    }

    /// <summary>A node certificate this CA signs, as a PEM certificate and key: the two <c>Berth:Cluster:Tls</c> paths.</summary>
    /// <param name="node">The subject's CN and the file names.</param>
    /// <param name="usages">As for <see cref="Issue"/>.</param>
    /// <param name="authority">As for <see cref="Issue"/>.</param>
    /// <param name="keyUsage">As for <see cref="Issue"/>.</param>
    public (string CertificatePath, string KeyPath) IssuePem(string node, string[]? usages = null, bool authority = false, X509KeyUsageFlags? keyUsage = null)
    {
        using var certificate = Issue(node, usages, authority, keyUsage);
        var certificatePath = Path.Combine(Directory, $"{node}.pem");
        var keyPath = Path.Combine(Directory, $"{node}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>A node certificate this CA signs, as a PKCS#12 file with <paramref name="password"/>.</summary>
    /// <param name="node">The subject's CN and the file name.</param>
    /// <param name="password">The file's password.</param>
    /// <param name="usages">As for <see cref="Issue"/>.</param>
    /// <param name="keyUsage">As for <see cref="Issue"/>.</param>
    public string IssuePfx(string node, string password, string[]? usages = null, X509KeyUsageFlags? keyUsage = null)
    {
        using var certificate = Issue(node, usages, keyUsage: keyUsage);
        var path = Path.Combine(Directory, $"{node}.pfx");
        File.WriteAllBytes(path, certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password));
        return path;
    }

    /// <summary>A certificate this CA signs, with its key: by default a node's (an end entity for server and client use).</summary>
    /// <param name="node">The subject's CN and DNS name.</param>
    /// <param name="usages">
    /// The extended key usage OIDs (<see cref="ServerAuth"/>, <see cref="ClientAuth"/>, <see cref="CodeSigning"/>);
    /// <see langword="null"/>: serverAuth and clientAuth; empty: no extended key usage extension (any use).
    /// </param>
    /// <param name="authority">Whether it is a CA certificate itself (CA:TRUE, and keyCertSign beside digitalSignature).</param>
    /// <param name="keyUsage">
    /// The key usage extension's bits; <see langword="null"/>: digitalSignature (and keyCertSign for an authority);
    /// <see cref="X509KeyUsageFlags.None"/>: no key usage extension (any use).
    /// </param>
    /// <param name="issuer">The certificate, with its key, that signs it (an intermediate from <c>Issue(authority: true)</c>); <see langword="null"/>: this CA.</param>
    public X509Certificate2 Issue(string node, string[]? usages = null, bool authority = false, X509KeyUsageFlags? keyUsage = null, X509Certificate2? issuer = null)
    {
        issuer ??= _authority;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(authority, false, 0, true));
        keyUsage ??= X509KeyUsageFlags.DigitalSignature | (authority ? X509KeyUsageFlags.KeyCertSign : 0);
        if (keyUsage != X509KeyUsageFlags.None)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage.Value, true));
        }

        usages ??= [ServerAuth, ClientAuth];
        if (usages.Length > 0)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages.Select(u => new Oid(u))], false));
        }

        // An intermediate's key identifier is what its own certificates' authority key identifier names.
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName(node);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        // Not past the issuer's own end (an intermediate made a moment earlier ends a moment earlier).
        var notAfter = new[] { now.AddDays(1), new DateTimeOffset(issuer.NotAfter.ToUniversalTime(), TimeSpan.Zero) }.Min();
        using var signed = request.Create(issuer, now.AddHours(-1), notAfter, RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    public void Dispose() => _authority.Dispose();
}
