using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster.Tests;

/// <summary><c>Berth:Cluster:Tls</c> and <c>Berth:Cluster:HopUrl</c>: absent means off, and every bad value fails the read naming its key.</summary>
public sealed class ClusterTlsSettingsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-tls-settings", Guid.NewGuid().ToString("N"));
    private readonly TestCertificates _cluster;
    private readonly TestCertificates _other;

    public ClusterTlsSettingsTests()
    {
        _cluster = TestCertificates.CreateAuthority(_directory, "cluster");
        _other = TestCertificates.CreateAuthority(_directory, "other");
    }

    public void Dispose()
    {
        _cluster.Dispose();
        _other.Dispose();
        TempDirectory.TryDelete(_directory);
    }

    /// <summary>Keeps the formatted messages, to read the reason of a refusal (event 2622).</summary>
    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Messages.Add(formatter(state, exception));
    }

    private static IConfiguration Section(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    private (string Key, string Value)[] Pem(string node = "n1")
    {
        var (certificate, key) = _cluster.IssuePem(node);
        return [("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath)];
    }

    [Fact]
    public void Read_NoTlsSection_IsOffWithoutHopUrl()
    {
        var settings = BerthClusterSettings.Read(Section(("Forwarding", "node")));

        Assert.Null(settings.Tls);
        Assert.Null(settings.HopUrl);
    }

    [Fact]
    public void Read_PemCertificateAndKey_LoadsTheCertificateWithItsKeyAndTheCa()
    {
        var settings = BerthClusterSettings.Read(Section(Pem()));

        Assert.NotNull(settings.Tls);
        Assert.True(settings.Tls.Certificate.HasPrivateKey);
        Assert.Equal("CN=n1", settings.Tls.Certificate.Subject);
        Assert.Equal("CN=cluster cluster CA", settings.Tls.Authority.Subject);
    }

    [Fact]
    public void Read_Pfx_LoadsTheCertificateWithItsKey()
    {
        var pfx = _cluster.IssuePfx("n2", "s3cret");

        var settings = BerthClusterSettings.Read(Section(("Tls:PfxPath", pfx), ("Tls:PfxPassword", "s3cret"), ("Tls:CaPath", _cluster.CaPath)));

        Assert.True(settings.Tls!.Certificate.HasPrivateKey);
        Assert.Equal("CN=n2", settings.Tls.Certificate.Subject);
    }

    [Fact]
    public void IsTrusted_CertificateOfAnotherCa_IsFalse()
    {
        var settings = BerthClusterSettings.Read(Section(Pem())).Tls!;
        using var peer = _cluster.Issue("peer");
        using var stranger = _other.Issue("stranger");

        Assert.True(settings.IsTrusted(peer, null, ClusterPeerRole.Client));
        Assert.True(settings.IsTrusted(peer, null, ClusterPeerRole.Server));
        Assert.False(settings.IsTrusted(stranger, null, ClusterPeerRole.Client));
        Assert.False(settings.IsTrusted(stranger, null, ClusterPeerRole.Server));
    }

    [Theory]
    [InlineData(new[] { TestCertificates.ServerAuth }, false, true)]
    [InlineData(new[] { TestCertificates.ClientAuth }, true, false)]
    [InlineData(new[] { TestCertificates.CodeSigning }, false, false)]
    [InlineData(new[] { TestCertificates.ServerAuth, TestCertificates.ClientAuth }, true, true)]
    [InlineData(new string[0], true, true)]
    public void IsTrusted_ExtendedKeyUsage_OnlyThePurposeOfThePeersSide(string[] usages, bool asClient, bool asServer)
    {
        var settings = BerthClusterSettings.Read(Section(Pem())).Tls!;
        using var peer = _cluster.Issue("peer", usages);

        Assert.Equal((asClient, asServer), (settings.IsTrusted(peer, null, ClusterPeerRole.Client), settings.IsTrusted(peer, null, ClusterPeerRole.Server)));
    }

    [Fact]
    public void IsTrusted_CaCertificateTheClusterCaSigned_IsFalseOnBothSides()
    {
        var settings = BerthClusterSettings.Read(Section(Pem())).Tls!;
        using var authority = _cluster.Issue("sub-ca", authority: true);

        Assert.False(settings.IsTrusted(authority, null, ClusterPeerRole.Client));
        Assert.False(settings.IsTrusted(authority, null, ClusterPeerRole.Server));
    }

    [Fact]
    public void IsTrusted_LeafUnderAnIntermediateTheCaSigned_IsFalseEvenWithTheIntermediateSent()
    {
        var settings = BerthClusterSettings.Read(Section(Pem())).Tls!;
        using var intermediate = _cluster.Issue("sub-ca", authority: true, keyUsage: X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature);
        using var leaf = _cluster.Issue("peer", issuer: intermediate);
        using var presented = new X509Chain();
        presented.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        presented.ChainPolicy.CustomTrustStore.Add(settings.Authority);
        presented.ChainPolicy.ExtraStore.Add(intermediate);
        presented.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        presented.ChainPolicy.DisableCertificateDownloads = true;

        // The chain TLS would hand over is complete (leaf, intermediate, CA): the refusal is the direct-issuer rule, not a missing link.
        Assert.True(presented.Build(leaf), string.Join(", ", presented.ChainStatus.Select(s => s.Status)));
        Assert.Equal(3, presented.ChainElements.Count);
        var logger = new ListLogger();
        Assert.False(settings.IsTrusted(leaf, presented, ClusterPeerRole.Client, logger, "hop listener"));
        Assert.False(settings.IsTrusted(leaf, presented, ClusterPeerRole.Server));
        Assert.Contains("it is not issued directly by that CA (its chain goes through the intermediate 'CN=sub-ca')", Assert.Single(logger.Messages), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(X509KeyUsageFlags.KeyEncipherment, false)]
    [InlineData(X509KeyUsageFlags.KeyCertSign, false)]
    [InlineData(X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.CrlSign, false)]
    [InlineData(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true)]
    [InlineData(X509KeyUsageFlags.None, true)]
    public void IsTrusted_KeyUsage_OnlyWithDigitalSignatureOrNoExtension(X509KeyUsageFlags keyUsage, bool trusted)
    {
        var settings = BerthClusterSettings.Read(Section(Pem())).Tls!;
        using var peer = _cluster.Issue("peer", keyUsage: keyUsage);

        Assert.Equal((trusted, trusted), (settings.IsTrusted(peer, null, ClusterPeerRole.Client), settings.IsTrusted(peer, null, ClusterPeerRole.Server)));
    }

    [Theory]
    [InlineData(X509KeyUsageFlags.KeyEncipherment, "keyEncipherment")]
    [InlineData(X509KeyUsageFlags.KeyCertSign, "keyCertSign")]
    public void Read_OwnCertificateWithoutDigitalSignature_FailsNamingTheCertificatePath(X509KeyUsageFlags keyUsage, string listed)
    {
        var (certificate, key) = _cluster.IssuePem("n1", keyUsage: keyUsage);

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.CertificatePathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains($"its key usage ({listed}) does not include digitalSignature;", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_OwnPfxCertificateKeyEnciphermentOnly_NamesThePfxKey()
    {
        var pfx = _cluster.IssuePfx("n2", "pw", keyUsage: X509KeyUsageFlags.KeyEncipherment);

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:PfxPath", pfx), ("Tls:PfxPassword", "pw"), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.PfxPathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not include digitalSignature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OwnCertificateWithoutKeyUsageExtension_IsANode()
    {
        var (certificate, key) = _cluster.IssuePem("n1", keyUsage: X509KeyUsageFlags.None);

        var settings = BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath)));

        Assert.Equal("CN=n1", settings.Tls!.Certificate.Subject);
    }

    [Theory]
    [InlineData(new[] { TestCertificates.ServerAuth }, "clientAuth")]
    [InlineData(new[] { TestCertificates.ClientAuth }, "serverAuth")]
    [InlineData(new[] { TestCertificates.CodeSigning }, "serverAuth or clientAuth")]
    public void Read_OwnCertificateWithoutBothPurposes_FailsNamingTheMissingOne(string[] usages, string missing)
    {
        var (certificate, key) = _cluster.IssuePem("n1", usages);

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.CertificatePathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains($"does not include {missing};", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_OwnPfxCertificateServerOnly_NamesThePfxKey()
    {
        var pfx = _cluster.IssuePfx("n2", "pw", [TestCertificates.ServerAuth]);

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:PfxPath", pfx), ("Tls:PfxPassword", "pw"), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.PfxPathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains("clientAuth", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OwnCertificateIsACa_FailsNamingTheCertificatePath()
    {
        var (certificate, key) = _cluster.IssuePem("n1", authority: true);

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.CertificatePathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains("CA certificate (CA:TRUE)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OwnCertificateWithoutExtendedKeyUsage_IsANodeForAnyUse()
    {
        var (certificate, key) = _cluster.IssuePem("n1", usages: []);

        var settings = BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath)));

        Assert.Equal("CN=n1", settings.Tls!.Certificate.Subject);
    }

    [Fact]
    public void Read_KeyOfAnotherCertificate_SaysTheKeyIsNotTheCertificates()
    {
        var (certificate, _) = _cluster.IssuePem("n1");
        var (_, otherKey) = _cluster.IssuePem("n2");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", otherKey), ("Tls:CaPath", _cluster.CaPath))));

        Assert.StartsWith(ClusterTlsSettings.KeyPathKey + ":", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the key in '{otherKey}' is not the key of the certificate in {ClusterTlsSettings.CertificatePathKey}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("readable PEM file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_WithoutCaPath_NamesTheCaKey()
    {
        var (certificate, key) = _cluster.IssuePem("n1");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key))));

        Assert.Contains(ClusterTlsSettings.CaPathKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_PemAndPfxTogether_NamesBothForms()
    {
        var pfx = _cluster.IssuePfx("n2", "pw");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section([.. Pem(), ("Tls:PfxPath", pfx)])));

        Assert.Contains(ClusterTlsSettings.CertificatePathKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(ClusterTlsSettings.PfxPathKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CertificateWithoutKeyPath_NamesTheKeyPath()
    {
        var (certificate, _) = _cluster.IssuePem("n1");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:CaPath", _cluster.CaPath))));

        Assert.Contains(ClusterTlsSettings.KeyPathKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingCaFile_NamesTheKeyAndThePath()
    {
        var missing = Path.Combine(_directory, "nowhere.pem");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section([.. Pem()[..2], ("Tls:CaPath", missing)])));

        Assert.Contains(ClusterTlsSettings.CaPathKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_WrongPfxPassword_NamesThePfxKey()
    {
        var pfx = _cluster.IssuePfx("n2", "right");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:PfxPath", pfx), ("Tls:PfxPassword", "wrong"), ("Tls:CaPath", _cluster.CaPath))));

        Assert.Contains(ClusterTlsSettings.PfxPathKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CertificateOfAnotherCa_FailsNamingTheCa()
    {
        var (certificate, key) = _other.IssuePem("stranger");

        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Tls:CertificatePath", certificate), ("Tls:KeyPath", key), ("Tls:CaPath", _cluster.CaPath))));

        Assert.Contains(ClusterTlsSettings.CertificatePathKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(ClusterTlsSettings.CaPathKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TlsWithNodeForwardingWithoutHopUrl_NamesTheHopUrlKey()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section([.. Pem(), ("Forwarding", "node")])));

        Assert.Contains(BerthClusterSettings.HopUrlKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TlsWithNodeForwardingAndHopUrl_KeepsTheHopUrl()
    {
        var settings = BerthClusterSettings.Read(Section([.. Pem(), ("Forwarding", "node"), ("HopUrl", "https://10.0.0.5:8443")]));

        Assert.Equal(new Uri("https://10.0.0.5:8443"), settings.HopUrl);
    }

    [Theory]
    [InlineData("http://10.0.0.5:8443")]
    [InlineData("https://10.0.0.5:8443/hop")]
    [InlineData("10.0.0.5:8443")]
    public void Read_BadHopUrl_NamesTheKeyAndTheValue(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section([.. Pem(), ("Forwarding", "node"), ("HopUrl", url)])));

        Assert.Contains(BerthClusterSettings.HopUrlKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HopUrlWithoutTls_NamesTheTlsSection()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Forwarding", "node"), ("HopUrl", "https://10.0.0.5:8443"))));

        Assert.Contains(BerthClusterSettings.HopUrlKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(ClusterTlsSettings.SectionKey, error.Message, StringComparison.Ordinal);
    }
}
