using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// The host's own messages: event IDs BerthEventIds.Hosting + n.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Hosting + 1, LogLevel.Warning, "containers[].class_name '{ClassName}' in the config file has no C# class registered with AddContainer<{ClassName}>()", EventName = "ConfigClassUnregistered")]
    public static partial void UnregisteredClass(ILogger logger, string className);

    [LoggerMessage(BerthEventIds.Hosting + 2, LogLevel.Information, "Container class {ClassName} runs image {Image}", EventName = "ClassImageReady")]
    public static partial void ClassImageReady(ILogger logger, string className, string image);

    [LoggerMessage(BerthEventIds.Hosting + 3, LogLevel.Error, "Container class {ClassName} has no usable image: {Message}", EventName = "ClassImageFailed")]
    public static partial void ClassImageFailed(ILogger logger, string className, string message);
}
