using Berth.Containers;

namespace Berth.Testing;

/// <summary>Readiness from a <see cref="FakeContainerRuntime"/>: a port "accepts" (and a ping answers) when the fake container listens on it.</summary>
/// <param name="runtime">The fake runtime whose containers are probed (see <see cref="FakeContainerRuntime.PortDelay"/>).</param>
public sealed class FakeContainerProbe(FakeContainerRuntime runtime) : IContainerProbe
{
    /// <inheritdoc />
    public Task<bool> CanConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(runtime.IsListening(host, port));

    /// <inheritdoc />
    public Task<bool> PingAsync(string host, int port, string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(runtime.IsListening(host, port));
}
