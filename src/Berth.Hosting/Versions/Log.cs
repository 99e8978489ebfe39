using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// Versions, deploys and the registry: event IDs BerthEventIds.Images + 50..79 (the Images range, folder Versions).
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Images + 50, LogLevel.Information, "Recorded version {Number} of {ClassName}: {Image} ({Trigger})", EventName = "VersionRecorded")]
    public static partial void VersionRecorded(ILogger logger, string className, int number, string image, string trigger);

    [LoggerMessage(BerthEventIds.Images + 51, LogLevel.Warning, "The image registry is disabled (Berth:Registry:Enabled): version of {ClassName} uses the local tag {Reference}", EventName = "RegistryDisabled")]
    public static partial void RegistryDisabled(ILogger logger, string className, string reference);

    [LoggerMessage(BerthEventIds.Images + 52, LogLevel.Warning, "The image registry at {Address} could not be reached: version of {ClassName} uses the local tag {Reference} ({Message})", EventName = "RegistryUnreachable")]
    public static partial void RegistryUnreachable(ILogger logger, string className, string address, string reference, string message);

    [LoggerMessage(BerthEventIds.Images + 53, LogLevel.Information, "Pushed image of {ClassName} as {Reference}", EventName = "VersionPushed")]
    public static partial void Pushed(ILogger logger, string className, string reference);

    [LoggerMessage(BerthEventIds.Images + 54, LogLevel.Information, "Deploy of {ClassName}: building {Tag} from the uploaded build context", EventName = "DeployBuilding")]
    public static partial void DeployBuilding(ILogger logger, string className, string tag);

    [LoggerMessage(BerthEventIds.Images + 55, LogLevel.Warning, "Deploy of {ClassName} failed at {Step}; nothing changed: {Message}", EventName = "DeployFailed")]
    public static partial void DeployFailed(ILogger logger, string className, string step, string message);

    [LoggerMessage(BerthEventIds.Images + 56, LogLevel.Error, "Could not record the start-up version of {ClassName}: {Message}", EventName = "StartupVersionFailed")]
    public static partial void StartupVersionFailed(ILogger logger, string className, string message);

    [LoggerMessage(BerthEventIds.Images + 57, LogLevel.Information, "Removed version {Number} of {ClassName} ({Image}): older than the last {Keep} and not running", EventName = "VersionCollected")]
    public static partial void VersionCollected(ILogger logger, string className, int number, string image, int keep);

    [LoggerMessage(BerthEventIds.Images + 58, LogLevel.Warning, "Could not remove version {Number} of {ClassName} from the registry: {Message}", EventName = "VersionCollectFailed")]
    public static partial void VersionCollectFailed(ILogger logger, string className, int number, string message);
}
