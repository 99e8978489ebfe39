namespace Berth.Replication.Tests;

/// <summary>The start-up checks of <see cref="ReplicationOptions"/>: messages name settings that exist.</summary>
public sealed class ReplicationOptionsValidatorTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(ReplicationOptions.MaxRetentionDays + 1)]
    public void Validate_RetentionDaysOutOfRange_NamesTheAppSettingAndNoBerthJsoncField(int days)
    {
        var result = new ReplicationOptionsValidator().Validate(null, new ReplicationOptions { Connection = "Host=db", RetentionDays = days });

        var message = Assert.Single(result.Failures!);
        Assert.StartsWith($"Berth:Cluster:Storage:RetentionDays (appsettings.json, or the environment variable Berth__Cluster__Storage__RetentionDays) is {days};", message, StringComparison.Ordinal);
        // berth.jsonc's cluster object has provider, connection, cluster_id and forwarding only.
        Assert.DoesNotContain("retention_days", message, StringComparison.Ordinal);
        Assert.DoesNotContain("cluster.storage", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoConnection_NamesTheBerthJsoncField()
    {
        var result = new ReplicationOptionsValidator().Validate(null, new ReplicationOptions());

        Assert.Contains(result.Failures!, m => m.StartsWith("Berth:Cluster:Connection (berth.jsonc cluster.connection) is required", StringComparison.Ordinal));
    }
}
