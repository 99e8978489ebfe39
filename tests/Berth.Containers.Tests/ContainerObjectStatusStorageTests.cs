using System.Text.Json;
using Berth.Objects;

namespace Berth.Containers.Tests;

/// <summary>
/// The object's persisted state record was renamed (ContainerStatusInfo → ContainerObjectStatus, ContainerState →
/// ContainerObjectState); object storage keeps JSON by property name and enums by number, so data written before the
/// rename must still read.
/// </summary>
public sealed class ContainerObjectStatusStorageTests
{
    // As written under _berth/container/status by the code before the rename (JsonSerializerOptions.Web).
    private const string StoredBeforeRename =
        """{"state":4,"containerId":"c0ffee","exitCode":3,"reason":"crash","changedAt":"2026-01-01T00:00:00+00:00","lastOutput":["boom"]}""";

    [Fact]
    public void Deserialize_JsonStoredBeforeRename_ReadsEveryField()
    {
        var status = JsonSerializer.Deserialize<ContainerObjectStatus>(StoredBeforeRename, new DurableObjectOptions().StorageJsonOptions);

        Assert.NotNull(status);
        Assert.Equal(ContainerObjectState.StoppedWithCode, status.State);
        Assert.Equal("c0ffee", status.ContainerId);
        Assert.Equal(3, status.ExitCode);
        Assert.Equal("crash", status.Reason);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), status.ChangedAt);
        Assert.Equal(["boom"], status.LastOutput);
    }

    [Theory]
    [InlineData(ContainerObjectState.Stopped, 0)]
    [InlineData(ContainerObjectState.Running, 1)]
    [InlineData(ContainerObjectState.Healthy, 2)]
    [InlineData(ContainerObjectState.Stopping, 3)]
    [InlineData(ContainerObjectState.StoppedWithCode, 4)]
    public void State_StoredNumber_IsUnchanged(ContainerObjectState state, int stored) =>
        Assert.Equal(stored, (int)state);
}
