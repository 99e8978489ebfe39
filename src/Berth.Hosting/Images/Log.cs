using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// Application image messages: event IDs BerthEventIds.Images + n.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Images + 1, LogLevel.Information, "Image for {ClassName} is up to date: {Tag}", EventName = "AppImageUpToDate")]
    public static partial void CacheHit(ILogger logger, string className, string tag);

    [LoggerMessage(BerthEventIds.Images + 2, LogLevel.Information, "Building image for {ClassName} as {Tag} from {Dockerfile}", EventName = "AppImageBuilding")]
    public static partial void Building(ILogger logger, string className, string tag, string dockerfile);

    [LoggerMessage(BerthEventIds.Images + 3, LogLevel.Information, "Built image for {ClassName} as {Tag} in {Seconds:0.0} s", EventName = "AppImageBuilt")]
    public static partial void Built(ILogger logger, string className, string tag, double seconds);

    [LoggerMessage(BerthEventIds.Images + 4, LogLevel.Debug, "[build {ClassName}] {Line}", EventName = "AppImageBuildOutput")]
    public static partial void BuildOutput(ILogger logger, string className, string line);

    [LoggerMessage(BerthEventIds.Images + 5, LogLevel.Information, "[build {ClassName}] {Step}", EventName = "AppImageBuildStep")]
    public static partial void BuildStep(ILogger logger, string className, string step);

    [LoggerMessage(BerthEventIds.Images + 6, LogLevel.Error, "Building image for {ClassName} as {Tag} failed: {Message}", EventName = "AppImageBuildFailed")]
    public static partial void BuildFailed(ILogger logger, string className, string tag, string message);

    [LoggerMessage(BerthEventIds.Images + 7, LogLevel.Warning, "Could not remove {Reference}, an earlier image of {ClassName}; it is tried again after the next build: {Message}", EventName = "AppImageRemoveReplacedFailed")]
    public static partial void RemoveReplacedFailed(ILogger logger, string className, string reference, string message);
}
