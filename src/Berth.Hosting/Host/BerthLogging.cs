using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// The log levels a Berth app starts with, so that the default output says what a user needs: start-up (address, app,
/// classes), one line per container event naming the class and the object, and errors. The libraries underneath log
/// their routine work at Information; <see cref="BerthHostingExtensions.AddBerth"/> lowers them to Warning.
/// </summary>
/// <remarks>
/// The rules are added first, before any rule from configuration or code: a <c>Logging:LogLevel</c> entry for the same
/// category (appsettings.json, environment variables such as <c>Logging__LogLevel__Orleans=Information</c>) or a
/// provider-specific one, and <c>builder.Logging.AddFilter</c> in code, all win over them.
/// </remarks>
public static class BerthLogging
{
    /// <summary>YARP's forwarder's log category, quieter than the rest of YARP by default (see <see cref="DefaultLevels"/>).</summary>
    public const string ForwarderLogCategory = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    /// <summary>
    /// The categories whose Information lines are routine for a Berth app, each with the level it logs at by default:
    /// <list type="bullet">
    /// <item><c>Orleans</c> and <c>Microsoft.Orleans</c>: the silo's option dump and membership chatter at start-up (Warning).</item>
    /// <item>
    /// <c>Orleans.Runtime.Watchdog</c> (Error): Orleans 10's watchdog starts its platform thread before the stopwatch of its
    /// component checks, so the first check can read a stopwatch that never started and warn, on a loaded machine at almost
    /// every start, that the check "has not completed for" the machine's uptime, "potentially indicating ... deadlock". Its
    /// one other warning, a runtime stall of more than 2 s, is lost with it; set the category to Warning to see both.
    /// </item>
    /// <item><c>Polly</c>: a line per Orleans placement decision (Warning).</item>
    /// <item><c>Yarp</c>: two lines per forwarded request that name neither class nor object (Warning); Berth logs failed forwards itself.</item>
    /// <item>
    /// <c>Yarp.ReverseProxy.Forwarder.HttpForwarder</c> (Error): it logs every failed forward at Warning with the exception's whole
    /// stack (~70 lines), a client's malformed or abandoned body included, so any client could grow the host's log by that much
    /// per request. Berth logs each failed forward itself in one line (class, object, container, the error). A
    /// <c>Logging:LogLevel</c> entry for it or for <c>Yarp</c> (<c>berth dev --log-requests</c> sets one) turns YARP's lines back on.
    /// </item>
    /// <item><c>Berth.Gateway.Requests</c>: Berth's own line per forwarded request, naming class, object, container and status (Warning).</item>
    /// <item><c>Microsoft.AspNetCore</c>: a line per request start and end (Warning). <c>Microsoft.Hosting.Lifetime</c>'s start-up lines (listening address) stay.</item>
    /// <item>
    /// <c>Microsoft.AspNetCore.Hosting.Diagnostics</c> (None): while this category is enabled at any level, ASP.NET Core starts an
    /// <c>Activity</c> and a logging scope for every request, listened to or not (bench/README.md, "Warm data plane"). Its one
    /// line above Information, an exception from the app's start-up, still ends the process with that exception. An
    /// <c>ActivityListener</c> (OpenTelemetry tracing) still gets its activities; <c>berth dev --log-requests</c> or a
    /// <c>Logging:LogLevel</c> entry for the category turns the request lines back on.
    /// </item>
    /// </list>
    /// </summary>
    public static IReadOnlyDictionary<string, LogLevel> DefaultLevels { get; } = new Dictionary<string, LogLevel>(StringComparer.Ordinal)
    {
        ["Orleans"] = LogLevel.Warning,
        ["Microsoft.Orleans"] = LogLevel.Warning,
        ["Orleans.Runtime.Watchdog"] = LogLevel.Error,
        ["Polly"] = LogLevel.Warning,
        ["Yarp"] = LogLevel.Warning,
        [ForwarderLogCategory] = LogLevel.Error,
        [Berth.Gateway.GatewayTelemetry.RequestsLogCategory] = LogLevel.Warning,
        ["Microsoft.AspNetCore"] = LogLevel.Warning,
        ["Microsoft.AspNetCore.Hosting.Diagnostics"] = LogLevel.None,
    };

    /// <summary>Adds <see cref="DefaultLevels"/> as the first filter rules, so configuration and code override them.</summary>
    internal static void AddDefaultLevels(IServiceCollection services) =>
        services.Configure<LoggerFilterOptions>(options =>
        {
            // Among rules of the same specificity the last one wins: first place leaves every later rule above ours.
            var index = 0;
            var appNamesYarp = options.Rules.Any(r => r.CategoryName is { Length: > 0 } named && ForwarderLogCategory.StartsWith(named, StringComparison.Ordinal));
            foreach (var (category, level) in DefaultLevels)
            {
                // The forwarder's rule is more specific than a "Yarp" entry the app or its configuration made before AddBerth,
                // so it would win over it: left out then, as every other default gives way to the app's own entry.
                if (category == ForwarderLogCategory && appNamesYarp)
                {
                    continue;
                }

                options.Rules.Insert(index++, new LoggerFilterRule(providerName: null, categoryName: category, logLevel: level, filter: null));
            }
        });
}
