using Berth.Testing;

namespace Berth.Gateway.Tests;

/// <summary>The engine and the test images, shared by every test of the assembly.</summary>
public sealed class GatewayFixture : DockerEngineFixture, IAsyncLifetime;

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "Gateway on the Docker engine";
}

/// <summary>
/// Tests that read the ASP.NET Core request metrics, run with no other test of the assembly. OpenTelemetry's meter listener
/// is process-wide and keys a metric stream by its meter's name, so when any other host in the process (the forwarder rigs
/// of the classes that run in parallel) disposes its <c>Microsoft.AspNetCore.Hosting</c> meter, the stream of the
/// same name in this host's provider stops too (open-telemetry/opentelemetry-dotnet#6412): the scrape lost
/// <c>http_server_request_duration_seconds</c> (CI, stops 22 and 25). One host per process, as in production, is not affected.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GatewayMetricsCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "Gateway metrics, alone in the process";
}

