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
    public (string CertificatePath, string KeyPath) IssuePem(string node)
    {
        using var certificate = Issue(node);
        var certificatePath = Path.Combine(Directory, $"{node}.pem");
        var keyPath = Path.Combine(Directory, $"{node}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>A node certificate this CA signs, as a PKCS#12 file with <paramref name="password"/>.</summary>
    public string IssuePfx(string node, string password)
    {
        using var certificate = Issue(node);
        var path = Path.Combine(Directory, $"{node}.pfx");
        File.WriteAllBytes(path, certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password));
        return path;
    }

    /// <summary>A node certificate this CA signs, with its key.</summary>
    public X509Certificate2 Issue(string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName(node);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var signed = request.Create(_authority, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    public void Dispose() => _authority.Dispose();
}
