using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Berth.Bench.Micro -- --filter '*'
// A short job keeps a full run to a few minutes; the figures are stable to a few percent on this machine.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Berth.Bench.Micro.RoutingBenchmarks).Assembly).Run(args, config);
