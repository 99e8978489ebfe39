using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster;

/// <summary>
/// TLS between the nodes of a cluster, read from the <c>Berth:Cluster:Tls</c> section: the node's certificate (PEM
/// certificate and key, or a PKCS#12 file) and the cluster's CA certificate, the only trust anchor every peer's certificate
/// must be issued by directly. Silo-to-silo connections (and, with <c>node</c> forwarding, the hop between gateways) then use mutual TLS.
/// The machine's certificate store is never consulted, and a peer's host name is not checked: every end-entity certificate
/// the cluster's CA issued for the purpose the peer uses it for is a node of the cluster (so keep that CA for this cluster alone).
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

    // RFC 5280's id-kp-serverAuth and id-kp-clientAuth.
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

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
    /// A field is missing, both certificate forms or neither are given, a file cannot be read or loaded, the key is not the
    /// certificate's, the certificate has no private key, is not issued directly by the CA, is a CA certificate itself, has a
    /// key usage extension without digitalSignature, or lists extended key usages without both serverAuth and clientAuth (a
    /// node is the server and the client of its peers): the message is one line that names the key and what is allowed.
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
            ? LoadPem(certPath!, keyPath!)
            : Load(PfxPathKey, pfxPath!, () => X509CertificateLoader.LoadPkcs12FromFile(pfxPath!, tls["PfxPassword"]));
        var keyKey = pem ? KeyPathKey : PfxPathKey;
        var certificateKey = pem ? CertificatePathKey : PfxPathKey;
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"{keyKey}: the node's certificate '{certificate.Subject}' comes without its private key; allowed: a certificate with its key.");
        }

        var settings = new ClusterTlsSettings(certificate, authority);
        if (settings.NotIssuedByTheCa(certificate, null) is { } unsigned)
        {
            throw new ArgumentException($"{certificateKey}: the node's certificate '{certificate.Subject}' is not one the CA '{authority.Subject}' of {CaPathKey} signed: {unsigned}; allowed: a certificate, valid now, that the cluster's CA signed itself (no intermediate CA).");
        }

        // Checked here rather than met later as Orleans' "Invalid client certificate" on every outbound connection (or
        // Kestrel's refusal of the hop listener's server certificate): a node presents this certificate on both sides.
        if (NotANode(certificate, ServerAuthOid, ClientAuthOid) is { } wrong)
        {
            throw new ArgumentException($"{certificateKey}: the node's certificate '{certificate.Subject}' is not a node's: {wrong}; allowed: an end-entity certificate (no basic constraints, or CA:FALSE) the cluster's CA signed, with key usage digitalSignature or none, and extended key usage serverAuth and clientAuth, or none (any use).");
        }

        return settings;
    }

    /// <summary>
    /// Whether a peer's certificate is a node's: <see cref="Authority"/> issued it directly, so the chain is exactly the
    /// certificate and the CA (valid now, no revocation check: the cluster's CA publishes no revocation list; a certificate
    /// under an intermediate CA is refused even when the peer sends that intermediate), it is an end entity (no basic
    /// constraints, or CA:FALSE), when it has a key usage extension that includes digitalSignature (a TLS 1.3 handshake
    /// signs with the key), and, when it has an extended key usage extension, that lists the purpose of
    /// <paramref name="role"/> (clientAuth for a <see cref="ClusterPeerRole.Client"/>, serverAuth for a
    /// <see cref="ClusterPeerRole.Server"/>); without the extension it is valid for any purpose (RFC 5280).
    /// </summary>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="presented">The chain TLS built for it (its extra certificates are the intermediates the peer sent), or <see langword="null"/>.</param>
    /// <param name="role">The side of the connection the peer is on.</param>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, ClusterPeerRole role) => IsTrusted(certificate, presented, role, out _);

    /// <summary>As <see cref="IsTrusted(X509Certificate2, X509Chain?, ClusterPeerRole)"/>, and a refused certificate is logged (event 2622, PeerCertificateRefused) as seen on <paramref name="where"/>.</summary>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="presented">The chain TLS built for it, or <see langword="null"/>.</param>
    /// <param name="role">The side of the connection the peer is on.</param>
    /// <param name="logger">Receives the warning; <see langword="null"/>: not logged.</param>
    /// <param name="where">The connection, for the log: "inbound silo connection", "outbound silo connection", "hop listener", "hop".</param>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, ClusterPeerRole role, ILogger? logger, string where)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (IsTrusted(certificate, presented, role, out var reason))
        {
            return true;
        }

        if (logger is not null)
        {
            Log.PeerCertificateRefused(logger, where, certificate.Subject, certificate.Issuer, Authority.Subject, reason);
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
            && IsTrusted(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain, ClusterPeerRole.Server, logger, "hop"),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    private bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, ClusterPeerRole role, out string reason)
    {
        if (NotIssuedByTheCa(certificate, presented) is { } unsigned)
        {
            reason = unsigned;
            return false;
        }

        var wrong = NotANode(certificate, role == ClusterPeerRole.Client ? ClientAuthOid : ServerAuthOid);
        reason = wrong is null ? "ok" : $"{wrong} (a {(role == ClusterPeerRole.Client ? "connecting peer" : "server")})";
        return wrong is null;
    }

    /// <summary>
    /// Why <paramref name="certificate"/> is not a node's for all of <paramref name="purposes"/>, or <see langword="null"/>.
    /// The extensions are read directly rather than through the chain's ApplicationPolicy: this is the rule Orleans and
    /// Kestrel apply to the node's own certificate (an extended key usage extension must list the purpose; none means any),
    /// so the start check and the handshakes agree, and the reason can name what is missing. No chain policy checks that
    /// the leaf is an end entity at all.
    /// </summary>
    private static string? NotANode(X509Certificate2 certificate, params string[] purposes)
    {
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(c => c.CertificateAuthority))
        {
            return "it is a CA certificate (CA:TRUE), not an end entity";
        }

        // TLS 1.3 signs the handshake with the certificate's key (RFC 8446 4.4.2.2); without the extension any use is allowed.
        if (certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } keyUsage
            && !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            return $"its key usage ({Name(keyUsage.KeyUsages)}) does not include digitalSignature";
        }

        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is not { } usage)
        {
            return null;
        }

        var listed = usage.EnhancedKeyUsages.Cast<Oid>().ToList();
        var missing = purposes.Where(p => !listed.Exists(o => o.Value == p)).ToList();
        return missing.Count == 0
            ? null
            : $"its extended key usage ({(listed.Count == 0 ? "empty" : string.Join(", ", listed.Select(Name)))}) does not include {string.Join(" or ", missing.Select(p => Name(new Oid(p))))}";
    }

    private static string Name(Oid usage) => usage.Value switch
    {
        ServerAuthOid => "serverAuth",
        ClientAuthOid => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        _ => usage.FriendlyName is { Length: > 0 } name ? $"{name} {usage.Value}" : usage.Value ?? "?",
    };

    /// <summary>RFC 5280's names of the key usage bits, as openssl writes them.</summary>
    private static string Name(X509KeyUsageFlags usages)
    {
        var names = Enum.GetValues<X509KeyUsageFlags>()
            .Where(f => f != X509KeyUsageFlags.None && usages.HasFlag(f))
            .Select(f => f == X509KeyUsageFlags.CrlSign ? "cRLSign" : char.ToLowerInvariant(f.ToString()[0]) + f.ToString()[1..])
            .ToList();
        return names.Count == 0 ? "empty" : string.Join(", ", names);
    }

    /// <summary>
    /// Why <paramref name="certificate"/> is not issued directly by <see cref="Authority"/>, the only trust anchor, or
    /// <see langword="null"/>: the chain built for it must be exactly [certificate, CA]. The intermediates a peer sent still
    /// help build the chain, so a certificate under one is named as such rather than as one that does not chain at all.
    /// </summary>
    private string? NotIssuedByTheCa(X509Certificate2 certificate, X509Chain? presented)
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

        if (!chain.Build(certificate))
        {
            return $"it does not chain to that CA ({string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()))})";
        }

        // The root the chain ends in must be the CA itself, not an equal-named one.
        if (!chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span))
        {
            return "it does not chain to that CA (it ends in another certificate of the same name)";
        }

        // The CA signs node certificates itself: a certificate under an intermediate CA the cluster's CA signed is not a
        // node's, whatever that intermediate's own usages say.
        return chain.ChainElements.Count switch
        {
            2 => null,
            1 => "it is that CA's own certificate, not one it issued",
            _ => $"it is not issued directly by that CA (its chain goes through the intermediate {string.Join(", ", chain.ChainElements.Skip(1).SkipLast(1).Select(e => $"'{e.Certificate.Subject}'"))})",
        };
    }

    /// <summary>The node's PEM certificate with its key; a key that is not the certificate's is said so, naming both keys.</summary>
    private static X509Certificate2 LoadPem(string certPath, string keyPath)
    {
        using var alone = Load(CertificatePathKey, certPath, () => X509Certificate2.CreateFromPem(File.ReadAllText(certPath)));
        try
        {
            return X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // .NET reports a wrong key like bad contents ("malformed, or the key does not match"): one that reads as a key is the wrong one.
            if (ex is CryptographicException or ArgumentException && IsPrivateKey(keyPath))
            {
                throw new ArgumentException($"{KeyPathKey}: the key in '{keyPath}' is not the key of the certificate in {CertificatePathKey} ('{certPath}', '{alone.Subject}'); allowed: the private key that certificate was issued for.", ex);
            }

            throw new ArgumentException($"{KeyPathKey}: '{keyPath}' cannot be loaded as the key of '{alone.Subject}' ({ex.Message.ReplaceLineEndings(" ")}); allowed: a readable PEM file with that certificate's private key (PKCS#8, or the key type's own PEM form).", ex);
        }
    }

    /// <summary>Whether the file holds an unencrypted RSA or EC private key in PEM.</summary>
    private static bool IsPrivateKey(string keyPath)
    {
        var pem = File.ReadAllText(keyPath);
        foreach (var create in new Func<AsymmetricAlgorithm>[] { RSA.Create, ECDsa.Create })
        {
            using var key = create();
            try
            {
                key.ImportFromPem(pem);
                return true;
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                // Not a key of this algorithm.
            }
        }

        return false;
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
        [LoggerMessage(Berth.Diagnostics.BerthEventIds.Cluster + 22, LogLevel.Warning, "A peer's certificate was refused on a {Where}: '{Subject}' (issuer '{Issuer}') is not a node certificate of the cluster's CA '{Authority}': {Reason}; check Berth:Cluster:Tls:CaPath and the certificates on both nodes", EventName = "PeerCertificateRefused")]
        public static partial void PeerCertificateRefused(ILogger logger, string where, string subject, string issuer, string authority, string reason);
    }
}
