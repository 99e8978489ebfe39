using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.Hosting;

/// <summary>
/// Walks a parsed config document field by field, collecting every problem instead of stopping at
/// the first, so one run of the app shows all that is wrong with the file.
/// </summary>
internal sealed partial class ConfigReader(string baseDirectory)
{
    private const string IdentifierAllowed = "a C# identifier (letters, digits and '_', not starting with a digit)";
    private const string NameAllowed = "lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit";
    private const string ImageAllowed =
        "a Dockerfile path (ending in 'Dockerfile' or '.Dockerfile', or starting with './' or '../') or an image reference such as 'my-api:1.0'";

    private static readonly string InstanceTypeAllowed =
        $"{string.Join(", ", InstanceType.KnownNames)} or {{vcpu {InstanceType.CustomMinVcpu}–{InstanceType.CustomMaxVcpu}, " +
        $"memory_mib ≤ {InstanceType.CustomMaxMemoryMib}, disk_mb ≤ {InstanceType.CustomMaxDiskMb}}}";

    internal static readonly string[] RootFields = ["$schema", "name", "containers", "triggers", "vars", "keep_versions", "cluster", "metering"];
    internal static readonly string[] ClusterFields = ["provider", "connection", "cluster_id", "forwarding"];
    internal static readonly string[] ContainerFields =
    [
        "class_name", "image", "image_build_context", "image_vars", "instance_type", "max_instances", "sleep_after",
        "runtime", "init", "enable_internet", "allowed_hosts", "denied_hosts",
        "rollout_step_percentage", "rollout_active_grace_period", "rollout_stop_grace_period",
        "autoscaling",
        "prewarmed_instances",
    ];
    private const string HostsAllowed = "an array of host globs such as \"api.example.com\", \"*.example.com\" or \"api.*.internal\"";
    internal static readonly string[] InstanceTypeFields = ["vcpu", "memory_mib", "disk_mb"];
    internal static readonly string[] AutoscalingFields =
        ["minimum_instances", "target_concurrency", "cpu_target", "scale_down_delay", "max_queued_requests", "queue_timeout"];

    /// <summary>
    /// Fields of the seed platform's format that nothing in Berth acts on yet: rejected by name instead of accepted
    /// and ignored, so an app never believes it has a rollout, autoscaling or a binding it does not have.
    /// </summary>
    internal static readonly string[] NotSupportedYet =
    [
        "durable_objects",
    ];
    internal static readonly string[] TriggersFields = ["crons"];

    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    /// <summary>Returns the config, or <see langword="null"/> when the root is not an object; check <see cref="Problems"/> either way.</summary>
    public BerthAppConfig? ReadApp(JsonElement root)
    {
        if (Fields(root, "", RootFields) is not { } fields)
        {
            return null;
        }

        string name = "";
        if (!fields.TryGetValue("name", out var nameValue))
        {
            Problem("name", $"required; allowed: {NameAllowed}");
        }
        else if (String(nameValue, "name", NameAllowed) is { } n)
        {
            name = AppNameRegex().IsMatch(n) ? n : NotAllowed("name", nameValue, NameAllowed) ?? "";
        }

        var containers = fields.TryGetValue("containers", out var c) ? ReadContainers(c) : [];
        var crons = fields.TryGetValue("triggers", out var t) ? ReadTriggers(t) : [];
        var vars = fields.TryGetValue("vars", out var v) ? ReadVars(v) : FrozenDictionary<string, string>.Empty;
        var keepVersions = fields.TryGetValue("keep_versions", out var kv)
            ? Int(kv, "keep_versions", RegistryOptions.MinKeepVersions, RegistryOptions.MaxKeepVersions,
                $"an integer from {RegistryOptions.MinKeepVersions} to {RegistryOptions.MaxKeepVersions}")
            : null;

        var cluster = fields.TryGetValue("cluster", out var cl) ? ReadCluster(cl) : null;
        var metering = fields.TryGetValue("metering", out var me) ? ReadMetering(me) : null;

        return new BerthAppConfig
        {
            Name = name,
            Cluster = cluster,
            Metering = metering,
            Containers = containers,
            Crons = crons,
            Vars = vars,
            KeepVersions = keepVersions,
        };
    }

    private List<ContainerConfig> ReadContainers(JsonElement value)
    {
        var result = new List<ContainerConfig>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = Array(value, "containers", "an array of container objects");
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"containers[{i}]";
            if (ReadContainer(items[i], path) is not { } container)
            {
                continue;
            }

            if (container.ClassName.Length > 0 && !seen.TryAdd(container.ClassName, i))
            {
                Problem($"{path}.class_name",
                    $"'{container.ClassName}' is not allowed; allowed: a class name not used before (already used by containers[{seen[container.ClassName]}])");
            }

            result.Add(container);
        }

        return result;
    }

    private ContainerConfig? ReadContainer(JsonElement value, string path)
    {
        if (Fields(value, path, ContainerFields) is not { } fields)
        {
            return null;
        }

        var className = RequiredIdentifier(fields, "class_name", path) ?? "";
        var image = ReadImage(fields, path);

        return new ContainerConfig
        {
            ClassName = className,
            Image = image ?? new ImageReference(""),
            // An absent field stays null: the class's own choice in code (or ContainerClassOptions' default) applies.
            InstanceType = fields.TryGetValue("instance_type", out var it) ? ReadInstanceType(it, $"{path}.instance_type") : null,
            MaxInstances = fields.TryGetValue("max_instances", out var m) ? Int(m, $"{path}.max_instances", 1, int.MaxValue, "an integer ≥ 1") : null,
            SleepAfter = fields.TryGetValue("sleep_after", out var s) ? Duration(s, $"{path}.sleep_after") : null,
            Runtime = fields.TryGetValue("runtime", out var r) ? ReadRuntime(r, $"{path}.runtime") : null,
            Init = fields.TryGetValue("init", out var i) ? Bool(i, $"{path}.init") : null,
            EnableInternet = fields.TryGetValue("enable_internet", out var ei) ? Bool(ei, $"{path}.enable_internet") : null,
            AllowedHosts = fields.TryGetValue("allowed_hosts", out var ah) ? HostGlobs(ah, $"{path}.allowed_hosts") : null,
            DeniedHosts = fields.TryGetValue("denied_hosts", out var dh) ? HostGlobs(dh, $"{path}.denied_hosts") : null,
            RolloutStepPercentage = fields.TryGetValue("rollout_step_percentage", out var rs) ? ReadRolloutSteps(rs, $"{path}.rollout_step_percentage") : null,
            RolloutActiveGracePeriod = fields.TryGetValue("rollout_active_grace_period", out var ra) && Number(ra, $"{path}.rollout_active_grace_period", 0, 7 * 86400, "a number of seconds from 0 to 604800") is { } active
                ? TimeSpan.FromSeconds(active) : null,
            RolloutStopGracePeriod = fields.TryGetValue("rollout_stop_grace_period", out var rg) && Number(rg, $"{path}.rollout_stop_grace_period", 1, 900, "a number of seconds from 1 to 900 (15 minutes)") is { } stop
                ? TimeSpan.FromSeconds(stop) : null,
            Autoscaling = fields.TryGetValue("autoscaling", out var a) ? ReadAutoscaling(a, $"{path}.autoscaling") : null,
            PrewarmedInstances = fields.TryGetValue("prewarmed_instances", out var pw)
                ? Int(pw, $"{path}.prewarmed_instances", 0, Berth.Containers.ContainerClassOptions.MaxPrewarmedInstances, $"an integer from 0 to {Berth.Containers.ContainerClassOptions.MaxPrewarmedInstances}")
                : null,
        };
    }

    private AutoscalingConfig? ReadAutoscaling(JsonElement value, string path)
    {
        if (Fields(value, path, AutoscalingFields) is not { } fields)
        {
            return null;
        }

        return new AutoscalingConfig
        {
            MinimumInstances = fields.TryGetValue("minimum_instances", out var min) ? Int(min, $"{path}.minimum_instances", 0, int.MaxValue, "an integer ≥ 0") : null,
            TargetConcurrency = fields.TryGetValue("target_concurrency", out var tc) ? Int(tc, $"{path}.target_concurrency", 1, int.MaxValue, "an integer ≥ 1") : null,
            CpuTarget = fields.TryGetValue("cpu_target", out var cpu) ? Number(cpu, $"{path}.cpu_target", 1, 1000, "a number of percent of one CPU core, 1–1000") : null,
            ScaleDownDelay = fields.TryGetValue("scale_down_delay", out var sd) ? Duration(sd, $"{path}.scale_down_delay") : null,
            MaxQueuedRequests = fields.TryGetValue("max_queued_requests", out var mq) ? Int(mq, $"{path}.max_queued_requests", 1, int.MaxValue, "an integer ≥ 1") : null,
            QueueTimeout = fields.TryGetValue("queue_timeout", out var qt) ? Duration(qt, $"{path}.queue_timeout") : null,
        };
    }

    /// <summary><c>rollout_step_percentage</c>: one number 1–100, or a strictly increasing list of them.</summary>
    private IReadOnlyList<int>? ReadRolloutSteps(JsonElement value, string path)
    {
        const string allowed = "a number 1-100, or a strictly increasing list of them such as [10, 100]";
        if (value.ValueKind == JsonValueKind.Number)
        {
            return Int(value, path, 1, 100, allowed) is { } single ? [single] : null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            return NotAllowed<IReadOnlyList<int>>(path, value, allowed);
        }

        var steps = new List<int>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var step) || step is < 1 or > 100 || steps.Count > 0 && step <= steps[^1])
            {
                return NotAllowed<IReadOnlyList<int>>(path, value, allowed);
            }

            steps.Add(step);
        }

        return steps;
    }

    private string? ReadRuntime(JsonElement value, string path)
    {
        var allowed = string.Join(" or ", Berth.Containers.ContainerClassOptions.AllowedRuntimes.Select(r => $"\"{r}\""));
        return value.ValueKind == JsonValueKind.String && value.GetString() is { } text && Berth.Containers.ContainerClassOptions.IsAllowedRuntime(text)
            ? text
            : NotAllowed(path, value, allowed);
    }

    private ConfiguredImage? ReadImage(Dictionary<string, JsonElement> fields, string path)
    {
        var imagePath = $"{path}.image";
        fields.TryGetValue("image_build_context", out var contextValue);
        fields.TryGetValue("image_vars", out var varsValue);
        var hasContext = contextValue.ValueKind != JsonValueKind.Undefined;
        var hasVars = varsValue.ValueKind != JsonValueKind.Undefined;

        if (!fields.TryGetValue("image", out var imageValue))
        {
            Problem(imagePath, $"required; allowed: {ImageAllowed}");
            return null;
        }

        if (String(imageValue, imagePath, ImageAllowed) is not { } image)
        {
            return null;
        }

        var resolved = ResolvePath(image);
        var isDockerfile = Path.GetFileName(image).EndsWith("Dockerfile", StringComparison.OrdinalIgnoreCase)
            || image.StartsWith("./", StringComparison.Ordinal)
            || image.StartsWith("../", StringComparison.Ordinal)
            || Path.IsPathRooted(image)
            || (image.Contains('/', StringComparison.Ordinal) && File.Exists(resolved));

        if (!isDockerfile)
        {
            if (!ImageReferenceRegex().IsMatch(image))
            {
                return NotAllowed<ConfiguredImage>(imagePath, imageValue, ImageAllowed);
            }

            if (hasContext)
            {
                Problem($"{path}.image_build_context", $"{Show(contextValue)} is not allowed; allowed: only when image is a Dockerfile path");
            }

            if (hasVars)
            {
                Problem($"{path}.image_vars", "is not allowed; allowed: only when image is a Dockerfile path");
            }

            return new ImageReference(image);
        }

        var dockerfileExists = File.Exists(resolved);
        if (!dockerfileExists)
        {
            Problem(imagePath, $"'{image}' is not allowed; allowed: a Dockerfile that exists (looked for {resolved}) or an image reference");
        }

        var context = Path.GetDirectoryName(resolved)!;
        if (hasContext && String(contextValue, $"{path}.image_build_context", "a directory path") is { } contextText)
        {
            context = ResolvePath(contextText);
            if (!Directory.Exists(context))
            {
                Problem($"{path}.image_build_context", $"'{contextText}' is not allowed; allowed: a directory that exists (looked for {context})");
            }
            else if (dockerfileExists && Path.GetRelativePath(context, resolved).StartsWith("..", StringComparison.Ordinal))
            {
                // The engine reads the Dockerfile out of the context archive, so it must be inside it.
                Problem($"{path}.image_build_context", $"'{contextText}' is not allowed; allowed: a directory that contains the Dockerfile {resolved}");
            }
        }

        var buildArgs = hasVars ? StringMap(varsValue, $"{path}.image_vars", allowScalars: false) : FrozenDictionary<string, string>.Empty;
        return new DockerfileImage(resolved, context, buildArgs);
    }

    private InstanceType? ReadInstanceType(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return InstanceType.TryParse(value.GetString(), out var named) ? named : NotAllowed<InstanceType>(path, value, InstanceTypeAllowed);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return NotAllowed<InstanceType>(path, value, InstanceTypeAllowed);
        }

        var fields = Fields(value, path, InstanceTypeFields)!;
        var vcpu = RequiredField(fields, "vcpu", path, v => Number(v, $"{path}.vcpu", InstanceType.CustomMinVcpu, InstanceType.CustomMaxVcpu,
            $"a number {InstanceType.CustomMinVcpu}–{InstanceType.CustomMaxVcpu}"));
        var memory = RequiredField(fields, "memory_mib", path, v => Int(v, $"{path}.memory_mib", InstanceType.CustomMinMemoryMib,
            InstanceType.CustomMaxMemoryMib, $"an integer {InstanceType.CustomMinMemoryMib}–{InstanceType.CustomMaxMemoryMib}"));
        var disk = RequiredField(fields, "disk_mb", path, v => Int(v, $"{path}.disk_mb", 1, InstanceType.CustomMaxDiskMb,
            $"an integer 1–{InstanceType.CustomMaxDiskMb}"));
        return vcpu is { } c && memory is { } mem && disk is { } d ? InstanceType.Custom(c, mem, d) : null;
    }

    private ClusterConfig? ReadCluster(JsonElement value)
    {
        if (Fields(value, "cluster", ClusterFields) is not { } fields)
        {
            return null;
        }

        const string ProviderAllowed = "'localhost' (one node, the default) or 'postgres'";
        string? provider = null;
        if (fields.TryGetValue("provider", out var p) && String(p, "cluster.provider", ProviderAllowed) is { } text)
        {
            provider = text is "localhost" or "postgres" ? text : NotAllowed("cluster.provider", p, ProviderAllowed);
        }

        var connection = fields.TryGetValue("connection", out var c) ? String(c, "cluster.connection", "an Npgsql connection string") : null;
        if (provider == "postgres" && string.IsNullOrWhiteSpace(connection))
        {
            Problem("cluster.connection", "required with provider 'postgres' (or set Berth:Cluster:Connection); allowed: an Npgsql connection string");
        }

        var clusterId = fields.TryGetValue("cluster_id", out var id) ? String(id, "cluster.cluster_id", "1–150 printable characters") : null;
        const string ForwardingAllowed = "'direct' (to the container's address, the default) or 'node' (through the hosting node's gateway)";
        string? forwarding = null;
        if (fields.TryGetValue("forwarding", out var f) && String(f, "cluster.forwarding", ForwardingAllowed) is { } mode)
        {
            forwarding = mode is "direct" or "node" ? mode : NotAllowed("cluster.forwarding", f, ForwardingAllowed);
        }

        return new ClusterConfig(provider, connection, clusterId, forwarding);
    }

    private List<string> ReadTriggers(JsonElement value)
    {
        var result = new List<string>();
        if (Fields(value, "triggers", TriggersFields) is not { } fields || !fields.TryGetValue("crons", out var crons))
        {
            return result;
        }

        var items = Array(crons, "triggers.crons", "an array of cron expression strings");
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"triggers.crons[{i}]";
            if (String(items[i], path, CronSchedule.Allowed) is not { } cron)
            {
                continue;
            }

            if (!CronSchedule.TryParse(cron, out _, out var error))
            {
                Problem(path, $"'{cron}' is not allowed: {error}; allowed: {CronSchedule.Allowed}");
            }
            else if (result.Contains(cron, StringComparer.Ordinal))
            {
                Problem(path, $"'{cron}' is not allowed; allowed: each expression once (it would fire twice)");
            }
            else
            {
                result.Add(cron);
            }
        }

        return result;
    }

    private IReadOnlyDictionary<string, string> ReadVars(JsonElement value) => StringMap(value, "vars", allowScalars: true);

    private FrozenDictionary<string, string> StringMap(JsonElement value, string path, bool allowScalars)
    {
        var allowed = allowScalars ? "an object whose values are strings, numbers or booleans" : "an object whose values are strings";
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value.ValueKind != JsonValueKind.Object)
        {
            NotAllowed(path, value, allowed);
            return result.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var property in value.EnumerateObject())
        {
            var itemPath = $"{path}.{property.Name}";
            var text = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False when allowScalars => property.Value.GetRawText(),
                _ => NotAllowed(itemPath, property.Value, allowScalars ? "a string, number or boolean" : "a string"),
            };
            if (property.Name.Length == 0)
            {
                Problem(path, "an empty key is not allowed; allowed: non-empty names");
            }
            else if (!result.TryAdd(property.Name, text ?? ""))
            {
                Problem(itemPath, "is not allowed; allowed: each key once");
            }
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private TimeSpan? Duration(JsonElement value, string path)
    {
        const string allowed = "a duration greater than 0 such as '30s', '10m' or '1h30m' (units ms, s, m, h)";
        if (value.ValueKind != JsonValueKind.String || !DurationRegex().IsMatch(value.GetString()!))
        {
            return NotAllowed<TimeSpan?>(path, value, allowed);
        }

        var total = TimeSpan.Zero;
        foreach (Match part in DurationPartRegex().Matches(value.GetString()!))
        {
            if (!long.TryParse(part.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 1_000_000_000)
            {
                return NotAllowed<TimeSpan?>(path, value, allowed);
            }

            total += part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }

        return total > TimeSpan.Zero ? total : NotAllowed<TimeSpan?>(path, value, allowed);
    }

    /// <summary>Checks that <paramref name="value"/> is an object with only known, non-repeated fields.</summary>
    private Dictionary<string, JsonElement>? Fields(JsonElement value, string path, string[] known)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return NotAllowed<Dictionary<string, JsonElement>?>(path.Length == 0 ? "(root)" : path, value, "an object");
        }

        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var fieldPath = Join(path, property.Name);
            if (NotSupportedYet.Contains(property.Name, StringComparer.Ordinal))
            {
                Problem(fieldPath, $"field '{property.Name}' is not supported yet; remove it (Berth does not act on it, so it would be silently ignored)");
            }
            else if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                var suggestion = Closest(property.Name, known);
                Problem(fieldPath,
                    $"unknown field '{property.Name}' is not allowed;{(suggestion is null ? "" : $" did you mean '{suggestion}'?")} allowed: {string.Join(", ", known)}");
            }
            else if (!fields.TryAdd(property.Name, property.Value))
            {
                Problem(fieldPath, $"field '{property.Name}' appears twice; allowed: each field once");
            }
        }

        return fields;
    }

    private List<JsonElement> Array(JsonElement value, string path, string allowed) =>
        value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : NotAllowed<List<JsonElement>>(path, value, allowed) ?? [];

    private string? RequiredIdentifier(Dictionary<string, JsonElement> fields, string name, string path)
    {
        var fieldPath = $"{path}.{name}";
        if (!fields.TryGetValue(name, out var value))
        {
            Problem(fieldPath, $"required; allowed: {IdentifierAllowed}");
            return null;
        }

        return String(value, fieldPath, IdentifierAllowed) is { } text && IdentifierRegex().IsMatch(text)
            ? text
            : NotAllowed(fieldPath, value, IdentifierAllowed);
    }

    private T? RequiredField<T>(Dictionary<string, JsonElement> fields, string name, string path, Func<JsonElement, T?> read)
        where T : struct
    {
        if (fields.TryGetValue(name, out var value))
        {
            return read(value);
        }

        Problem($"{path}.{name}", "required when instance_type is an object");
        return null;
    }

    private string? String(JsonElement value, string path, string allowed) =>
        value.ValueKind == JsonValueKind.String ? value.GetString() : NotAllowed(path, value, allowed);

    private int? Int(JsonElement value, string path, int min, int max, string allowed) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max
            ? number
            : NotAllowed<int?>(path, value, allowed);

    private bool? Bool(JsonElement value, string path) =>
        value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : NotAllowed<bool?>(path, value, "true or false");

    private double? Number(JsonElement value, string path, double min, double max, string allowed) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number >= min && number <= max
            ? number
            : NotAllowed<double?>(path, value, allowed);

    private List<string> HostGlobs(JsonElement value, string path)
    {
        var result = new List<string>();
        var items = Array(value, path, HostsAllowed);
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            if (String(items[i], itemPath, HostsAllowed) is not { } pattern)
            {
                continue;
            }

            if (Berth.Egress.HostGlob.TryParse(pattern, out _, out var error))
            {
                result.Add(pattern);
            }
            else
            {
                Problem(itemPath, $"'{pattern}' is not allowed: {error} Allowed: {HostsAllowed}");
            }
        }

        return result;
    }

    private string ResolvePath(string path) => Path.GetFullPath(Path.Combine(baseDirectory, path));

    private T? NotAllowed<T>(string path, JsonElement value, string allowed)
    {
        Problem(path, $"{Show(value)} is not allowed; allowed: {allowed}");
        return default;
    }

    private string? NotAllowed(string path, JsonElement value, string allowed) => NotAllowed<string>(path, value, allowed);

    private void Problem(string path, string message) => _problems.Add($"{path}: {message}");

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Show(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'" : value.GetRawText();
        return text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");
    }

    /// <summary>The known name within edit distance 2 of a misspelt one, for "did you mean".</summary>
    private static string? Closest(string name, string[] known)
    {
        var best = known.MinBy(k => EditDistance(name.ToLowerInvariant(), k));
        return best is not null && EditDistance(name.ToLowerInvariant(), best) <= Math.Max(2, name.Length / 4) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex AppNameRegex();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierRegex();

    // Docker's reference grammar: [registry[:port]/]path[:tag][@sha256:digest], path components lowercase.
    [GeneratedRegex(@"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")]
    private static partial Regex ImageReferenceRegex();

    [GeneratedRegex("^(?:[0-9]+(?:ms|s|m|h))+$")]
    private static partial Regex DurationRegex();

    [GeneratedRegex("([0-9]+)(ms|s|m|h)")]
    private static partial Regex DurationPartRegex();
}
