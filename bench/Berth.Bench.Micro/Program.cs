using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// dotnet run -c Release --project bench/Berth.Bench.Micro -- --filter '*'
// A short job keeps a full run to a few minutes; the figures are stable to a few percent on this machine.
// In process: BenchmarkDotNet's generated project would rebuild the whole solution for each run, which on this
// shared 2-core machine takes longer than its 2-minute build timeout.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1).WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Berth.Bench.Micro.RoutingBenchmarks).Assembly).Run(args, config);
