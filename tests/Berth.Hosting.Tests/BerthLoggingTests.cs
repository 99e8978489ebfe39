using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests;

/// <summary>AddBerth's default levels: the libraries' routine Information lines off, configuration and code still in charge.</summary>
public sealed class BerthLoggingTests
{
    private static ILoggerFactory Build(Action<HostApplicationBuilder>? configure, out IHost host)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        configure?.Invoke(builder);
        builder.AddBerth();
        host = builder.Build();
        return host.Services.GetRequiredService<ILoggerFactory>();
    }

    [Theory]
    [InlineData("Orleans.Runtime.Silo")]
    [InlineData("Orleans.Configuration.SiloOptions")]
    [InlineData("Yarp.ReverseProxy.Configuration.ConfigProvider")] // YARP's forwarder is at Error (below)
    [InlineData("Microsoft.AspNetCore.Routing.EndpointMiddleware")]
    [InlineData("Polly")]
    public void AddBerth_NoLoggingConfig_LibraryCategoryAtWarning(string category)
    {
        var factory = Build(null, out var host);
        using (host)
        {
            var logger = factory.CreateLogger(category);
            Assert.False(logger.IsEnabled(LogLevel.Information));
            Assert.True(logger.IsEnabled(LogLevel.Warning));
        }
    }

    [Fact]
    public void AddBerth_NoLoggingConfig_HostingDiagnosticsOff_NoActivityOrScopePerRequest()
    {
        // ASP.NET Core starts an Activity and a logging scope per request while this category is enabled at any level.
        var factory = Build(null, out var host);
        using (host)
        {
            Assert.False(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
        }
    }

    [Fact]
    public void AddBerth_LoggingConfigNamesHostingDiagnostics_ConfigWins()
    {
        // What `berth dev --log-requests` sets.
        var factory = Build(b => b.Configuration["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information", out var host);
        using (host)
        {
            Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
        }
    }

    [Fact]
    public void AddBerth_NoLoggingConfig_OrleansWatchdogAtError()
    {
        var factory = Build(null, out var host);
        using (host)
        {
            var logger = factory.CreateLogger("Orleans.Runtime.Watchdog");
            Assert.False(logger.IsEnabled(LogLevel.Warning));
            Assert.True(logger.IsEnabled(LogLevel.Error));
        }
    }

    [Theory]
    [InlineData("Microsoft.Hosting.Lifetime")]
    [InlineData("Berth.Containers.Container")]
    [InlineData("MyApp.Sandbox")]
    public void AddBerth_NoLoggingConfig_AppAndStartUpCategoriesAtInformation(string category)
    {
        var factory = Build(null, out var host);
        using (host)
        {
            Assert.True(factory.CreateLogger(category).IsEnabled(LogLevel.Information));
        }
    }

    [Fact]
    public void AddBerth_LoggingConfigNamesOrleans_ConfigWins()
    {
        var factory = Build(b => b.Configuration["Logging:LogLevel:Orleans"] = "Information", out var host);
        using (host)
        {
            Assert.True(factory.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Information));
            Assert.False(factory.CreateLogger("Yarp.ReverseProxy.Forwarder.HttpForwarder").IsEnabled(LogLevel.Information));
        }
    }

    [Fact]
    public void AddBerth_NoLoggingConfig_YarpForwarderOnlyErrors()
    {
        // Its warnings carry a whole stack per failed forward, a client's bad body included (Berth logs one line itself).
        var factory = Build(null, out var host);
        using (host)
        {
            var forwarder = factory.CreateLogger(BerthLogging.ForwarderLogCategory);
            Assert.False(forwarder.IsEnabled(LogLevel.Warning));
            Assert.True(forwarder.IsEnabled(LogLevel.Error));
        }
    }

    [Fact]
    public void AddBerth_FilterInCodeBeforeAddBerth_CodeWins()
    {
        var factory = Build(b => b.Logging.AddFilter("Yarp", LogLevel.Debug), out var host);
        using (host)
        {
            Assert.True(factory.CreateLogger("Yarp.ReverseProxy.Forwarder.HttpForwarder").IsEnabled(LogLevel.Debug));
        }
    }
}
