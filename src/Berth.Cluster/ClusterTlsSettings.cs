using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster;

/// <summary>
/// TLS between the nodes of a cluster, read from the <c>Berth:Cluster:Tls</c> section: the node's certificate (PEM
/// certificate and key, or a PKCS#12 file) and the cluster's CA certificate, the only trust anchor every peer's certificate
/// must chain to. Silo-to-silo connections (and, with <c>node</c> forwarding, the hop between gateways) then use mutual TLS.
/// The machine's certificate store is never consulted, and a peer's host name is not checked: every certificate the cluster's
/// CA issued is a node of the cluster (so keep that CA for this cluster alone).
/// </summary>
public sealed partial class ClusterTlsSettings
{
    /// <summary>The configuration key of the section: <c>Berth:Cluster:Tls</c>.</summary>
    public const string SectionKey = "Berth:Cluster:Tls";

    /// <summary>The configuration key of the node's PEM certificate file.</summary>
    public const string CertificatePathKey = SectionKey + ":CertificatePath";

    /// <summary>The configuration key of the node's PEM private key file (PKCS#8, or the key type's own PEM form).</summary>
    public const string KeyPathKey = SectionKey + ":KeyPath";

    /// <summary>The configuration key of the node's PKCS#12 (.pfx/.p12) file, instead of the two PEM files.</summary>
    public const string PfxPathKey = SectionKey + ":PfxPath";

    /// <summary>The configuration key of the PKCS#12 file's password.</summary>
    public const string PfxPasswordKey = SectionKey + ":PfxPassword";

    /// <summary>The configuration key of the cluster's CA certificate file (PEM).</summary>
    public const string CaPathKey = SectionKey + ":CaPath";

    private ClusterTlsSettings(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>The node's certificate, with its private key: presented to every peer, as server and as client.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The cluster's CA certificate: the only trust anchor of a peer's certificate.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>Reads and loads the <c>Berth:Cluster:Tls</c> section.</summary>
    /// <param name="tls">The <c>Berth:Cluster:Tls</c> configuration section.</param>
    /// <returns><see langword="null"/> when the section is absent (no TLS between nodes, the default).</returns>
    /// <exception cref="ArgumentException">
    /// A field is missing, both certificate forms or neither are given, a file cannot be read or loaded, the certificate has no
    /// private key or does not chain to the CA: the message is one line that names the key and what is allowed.
    /// </exception>
    public static ClusterTlsSettings? Read(IConfiguration tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (!tls.GetChildren().Any(c => c.Value is { Length: > 0 }))
        {
            return null;
        }

        var caPath = tls["CaPath"];
        if (string.IsNullOrWhiteSpace(caPath))
        {
            throw new ArgumentException($"{CaPathKey} is required with {SectionKey}; allowed: the path of the cluster's CA certificate (PEM) every node's certificate is signed by.");
        }

        var (certPath, keyPath, pfxPath) = (tls["CertificatePath"], tls["KeyPath"], tls["PfxPath"]);
        var pem = !string.IsNullOrWhiteSpace(certPath) || !string.IsNullOrWhiteSpace(keyPath);
        var pfx = !string.IsNullOrWhiteSpace(pfxPath);
        if (pem == pfx)
        {
            throw new ArgumentException($"{SectionKey} needs the node's certificate in one form; allowed: {CertificatePathKey} and {KeyPathKey} (PEM files), or {PfxPathKey} (and {PfxPasswordKey}), not both.");
        }

        if (pem && (string.IsNullOrWhiteSpace(certPath) || string.IsNullOrWhiteSpace(keyPath)))
        {
            throw new ArgumentException($"{CertificatePathKey} and {KeyPathKey} go together; allowed: the paths of the node's PEM certificate and its PEM private key.");
        }

        var authority = Load(CaPathKey, caPath, () => X509Certificate2.CreateFromPem(File.ReadAllText(caPath)));
        var certificate = pem
            ? Load($"{CertificatePathKey}/{KeyPathKey}", $"{certPath}', '{keyPath}", () => X509Certificate2.CreateFromPemFile(certPath!, keyPath))
            : Load(PfxPathKey, pfxPath!, () => X509CertificateLoader.LoadPkcs12FromFile(pfxPath!, tls["PfxPassword"]));
        var keyKey = pem ? KeyPathKey : PfxPathKey;
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"{keyKey}: the node's certificate '{certificate.Subject}' comes without its private key; allowed: a certificate with its key.");
        }

        var settings = new ClusterTlsSettings(certificate, authority);
        if (!settings.IsTrusted(certificate, null, out var status))
        {
            throw new ArgumentException($"{(pem ? CertificatePathKey : PfxPathKey)}: the node's certificate '{certificate.Subject}' does not chain to the CA '{authority.Subject}' of {CaPathKey} ({status}); allowed: a certificate, valid now, that the cluster's CA signed.");
        }

        return settings;
    }

    /// <summary>
    /// Whether a peer's certificate chains to <see cref="Authority"/> alone (valid now, no revocation check: the cluster's CA
    /// publishes no revocation list). The peer's intermediates, if it sent any, help build the chain but are not trusted.
    /// </summary>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="presented">The chain TLS built for it (its extra certificates are the intermediates the peer sent), or <see langword="null"/>.</param>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented) => IsTrusted(certificate, presented, out _);

    /// <summary>As <see cref="IsTrusted(X509Certificate2, X509Chain?)"/>, and a refused certificate is logged (event 2622, PeerCertificateRefused) as seen on <paramref name="where"/>.</summary>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="presented">The chain TLS built for it, or <see langword="null"/>.</param>
    /// <param name="logger">Receives the warning; <see langword="null"/>: not logged.</param>
    /// <param name="where">The connection, for the log: "silo connection", "hop listener", "hop".</param>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, ILogger? logger, string where)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (IsTrusted(certificate, presented, out var status))
        {
            return true;
        }

        if (logger is not null)
        {
            Log.PeerCertificateRefused(logger, where, certificate.Subject, certificate.Issuer, Authority.Subject, status);
        }

        return false;
    }

    /// <summary>The client side of the hop to another node's gateway: this node's certificate, and the CA as the server's only anchor.</summary>
    /// <param name="logger">Receives a warning for a server certificate that is refused; <see langword="null"/>: not logged.</param>
    public SslClientAuthenticationOptions CreateClientOptions(ILogger? logger) => new()
    {
        ClientCertificates = [Certificate],
        // Always offered: a server that lists acceptable issuers must still see this node's certificate and refuse it itself.
        LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate,
        // The name and the machine store's verdict in the policy errors are not used: the CA alone decides.
        RemoteCertificateValidationCallback = (_, certificate, chain, _) => certificate is not null
            && IsTrusted(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain, logger, "hop"),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    private bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, out string status)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var built = chain.Build(certificate);
        status = built ? "ok" : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()));
        // The root the chain ends in must be the CA itself, not an equal-named one.
        return built && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span);
    }

    private static X509Certificate2 Load(string key, string path, Func<X509Certificate2> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ArgumentException($"{key}: '{path}' cannot be loaded ({ex.Message.ReplaceLineEndings(" ")}); allowed: a readable {(key == PfxPathKey ? "PKCS#12 file and its password" : "PEM file")}.", ex);
        }
    }

    private static partial class Log
    {
        // TLS between nodes: BerthEventIds.Cluster + 22 (in the node gateways' range, 2620–2629).
        [LoggerMessage(Berth.Diagnostics.BerthEventIds.Cluster + 22, LogLevel.Warning, "A peer's certificate was refused on a {Where}: '{Subject}' (issuer '{Issuer}') does not chain to the cluster's CA '{Authority}' ({Status}); check Berth:Cluster:Tls:CaPath and the certificates on both nodes", EventName = "PeerCertificateRefused")]
        public static partial void PeerCertificateRefused(ILogger logger, string where, string subject, string issuer, string authority, string status);
    }
}
