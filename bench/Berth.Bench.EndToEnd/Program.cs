using System.Runtime.InteropServices;
using Berth.Bench.EndToEnd;
using Berth.Docker;
using Berth.Testing;

// End-to-end benchmarks of the gateway and container objects. One scenario per process, so each
// starts from a fresh platform process and its memory figures are its own:
//   cold-start | warm | fanout | churn   [--key value ...]   (see bench/README.md)
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("""
        usage: Berth.Bench.EndToEnd <scenario> [--key value ...]
          cold-start  --count 20 --concurrent 10 --instance-type standard-3
          warm-pool   --count 20 --prewarmed 2 --instance-type standard-3
          warm        --reps 3 --duration 10 --connections 32 --threads 1 --instance-type standard-3
          fanout      --sizes 100,500 --concurrency 8 --duration 10 --connections 32 --instance-type lite
          churn       --ids 10 --duration 60 --sleep-after-ms 1000 --max-pause-ms 2500 --instance-type lite
          rollout     --instances 50 --clients 4 --max-seconds 60 --instance-type lite
          telemetry   --reps 3 --duration 10 --connections 32 --threads 1 --instance-type standard-3
          step-load   --peak 32 --phases 20,40,40 --work-ms 50 --target-concurrency 4 --max-instances 12 --csv bench/step-load.csv
        common: --out FILE (append the report as markdown)
        """);
    return 0;
}

var benchArgs = BenchArgs.Parse(args);
Report.OutFile = benchArgs.GetOrNull("out");
var cancellation = Cleanup.Cancellation;
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Console.Error.WriteLine("cancelling: cleaning up containers, networks and nginx…");
    Cleanup.KillChildren();
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Cleanup.KillChildren();
    cancellation.Cancel();
});

string image;
using (var engine = new DockerContainerRuntime(new DockerRuntimeOptions()))
{
    await engine.PingAsync(cancellation.Token);
    // Leftovers of earlier benchmark or test processes that died (never another live process's resources).
    await TestResources.CleanupAsync(engine, cancellationToken: cancellation.Token);
    image = (await TestImages.EnsureBuiltAsync(engine, cancellation.Token)).App;
}

try
{
    return benchArgs.Scenario switch
    {
        "cold-start" => await ColdStart.RunAsync(benchArgs, image, cancellation.Token),
        "warm-pool" => await WarmPoolStart.RunAsync(benchArgs, image, cancellation.Token),
        "warm" => await WarmProxy.RunAsync(benchArgs, image, cancellation.Token),
        "fanout" => await FanOut.RunAsync(benchArgs, image, cancellation.Token),
        "churn" => await Churn.RunAsync(benchArgs, image, cancellation.Token),
        "rollout" => await Rollout.RunAsync(benchArgs, image, cancellation.Token),
        "step-load" => await StepLoad.RunAsync(benchArgs, image, cancellation.Token),
        "telemetry" => await TelemetryOverhead.RunAsync(benchArgs, image, cancellation.Token),
        _ => throw new ArgumentException($"unknown scenario '{benchArgs.Scenario}'"),
    };
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
finally
{
    await Cleanup.DisposeAllAsync();
}

namespace Berth.Bench.EndToEnd
{
    /// <summary><c>scenario --key value …</c>.</summary>
    internal sealed class BenchArgs
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public string Scenario { get; private init; } = "";

        public IReadOnlyList<string> Raw { get; private init; } = [];

        public static BenchArgs Parse(string[] args)
        {
            var parsed = new BenchArgs { Scenario = args[0], Raw = args };
            for (var i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    throw new ArgumentException($"expected --key value, got '{args[i]}'");
                }

                parsed._values[args[i][2..]] = args[++i];
            }

            return parsed;
        }

        public string Get(string key, string fallback) => _values.GetValueOrDefault(key, fallback);

        public string? GetOrNull(string key) => _values.GetValueOrDefault(key);

        public int Int(string key, int fallback) => _values.TryGetValue(key, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Prints the report (markdown) to stdout and, with --out, appends it to a file.</summary>
    internal static class Report
    {
        public static string? OutFile { get; set; }

        public static void Title(string title, BenchArgs args)
        {
            var reproduce = "dotnet run -c Release --project bench/Berth.Bench.EndToEnd -- " +
                Shell.Quote(args.Raw.Where((_, i) => !IsOut(args.Raw, i)));
            Line("");
            Line($"### {title}");
            Line("");
            Line($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm zzz}; {HostInfo.Describe()}; load average {HostInfo.LoadAverage()}");
            Line("");
            Line("```sh");
            Line(reproduce);
            Line("```");
            Line("");
        }

        private static bool IsOut(IReadOnlyList<string> raw, int i) => raw[i] == "--out" || (i > 0 && raw[i - 1] == "--out");

        public static void Line(string text)
        {
            Console.WriteLine(text);
            if (OutFile is { } file)
            {
                File.AppendAllText(file, text + Environment.NewLine);
            }
        }
    }
}
