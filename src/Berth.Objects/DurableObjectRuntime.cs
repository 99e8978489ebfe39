using Berth.Objects.Alarms;
using Berth.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Objects;

/// <summary>A binding registered by <c>AddDurableObject</c>: a namespace name and the class that serves it.</summary>
internal sealed record DurableObjectClassRegistration(string Name, Type Implementation);

/// <summary>The silo-wide services every object's context uses.</summary>
internal sealed class DurableObjectRuntime
{
    private readonly DurableObjectClassRegistration[] _bindings;

    public DurableObjectRuntime(
        IOptions<DurableObjectOptions> options,
        AlarmScheduler alarms,
        TimeProvider timeProvider,
        IEnumerable<DurableObjectClassRegistration> bindings,
        ILoggerFactory loggerFactory,
        IObjectStorageReplicator? replicator = null)
    {
        Replicator = replicator;
        Options = options.Value;
        DataDirectory = Path.GetFullPath(Options.DataDirectory);
        Alarms = alarms;
        TimeProvider = timeProvider;
        Logger = loggerFactory.CreateLogger("Berth.Objects.DurableObject");
        StorageOptions = new ObjectStorageOptions
        {
            MaxSizeBytes = Options.StorageLimitBytes,
            JsonSerializerOptions = Options.StorageJsonOptions,
        };
        _bindings = [.. bindings];
    }

    public DurableObjectOptions Options { get; }

    public string DataDirectory { get; }

    public AlarmScheduler Alarms { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    public ObjectStorageOptions StorageOptions { get; }

    /// <summary>Gets the cluster storage replicator, or <see langword="null"/> on a single node.</summary>
    public IObjectStorageReplicator? Replicator { get; }

    /// <summary>Finds the namespace an object belongs to: the binding of its class whose checksum the id carries.</summary>
    public string ResolveNamespace(Type implementation, DurableObjectId id)
    {
        string? only = null;
        foreach (var binding in _bindings)
        {
            if (binding.Implementation == implementation)
            {
                if (id.BelongsTo(binding.Name))
                {
                    return binding.Name;
                }

                only ??= binding.Name;
            }
        }

        return only ?? implementation.Name;
    }

    public TimeSpan RetryDelay(int retry) =>
        Options.AlarmRetryInitialDelay * Math.Pow(2, retry - 1);
}
