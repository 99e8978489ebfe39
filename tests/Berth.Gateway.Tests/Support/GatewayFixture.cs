using Berth.Testing;

namespace Berth.Gateway.Tests;

/// <summary>The engine and the test images, shared by every test of the assembly.</summary>
public sealed class GatewayFixture : DockerEngineFixture, IAsyncLifetime;

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "Gateway on the Docker engine";
}
