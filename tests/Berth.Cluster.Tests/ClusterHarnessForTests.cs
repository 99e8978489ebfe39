using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>
/// The xunit side of Berth.Testing's <see cref="ClusterHarness"/>: the node app is the one built next to this assembly,
/// and the harness's lines go to the test's output.
/// </summary>
internal static class ClusterHarnessForTests
{
    /// <summary>The path of the node app's assembly, next to the test's own build output (set in the project file).</summary>
    public static string NodePath => typeof(ClusterHarnessForTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestNodePath").Value!;

    // Static extension members, so the tests call ClusterHarness.StartAsync(output, ...) and ClusterNode.Launch(url, ...)
    // as they did when the harness lived in this project.
    extension(ClusterHarness)
    {
        public static Task<ClusterHarness> StartAsync(ITestOutputHelper output, params string[] locations) =>
            ClusterHarness.StartAsync(output, new Dictionary<string, string>(), locations);

        /// <summary>Starts one node per location, each with <paramref name="settings"/> as extra command-line configuration.</summary>
        public static Task<ClusterHarness> StartAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string> settings, params string[] locations) =>
            ClusterHarness.StartAsync(NodePath, output.WriteLine, settings, locations);

        /// <summary>As above, with node <c>i</c>'s own settings (its certificate, its hop URL) over <paramref name="settings"/>.</summary>
        public static Task<ClusterHarness> StartAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string> settings,
            Func<int, IReadOnlyDictionary<string, string>> nodeSettings, params string[] locations) =>
            ClusterHarness.StartAsync(NodePath, output.WriteLine, settings, nodeSettings, locations);
    }

    extension(ClusterNode)
    {
        /// <summary>Starts a node process with <paramref name="settings"/> as command-line configuration, without waiting for it.</summary>
        public static (Process Process, ConcurrentQueue<string> Log) Launch(string baseUrl, IEnumerable<KeyValuePair<string, string>> settings) =>
            ClusterNode.Launch(NodePath, baseUrl, settings);
    }
}
