using Berth.Hosting;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

public sealed class BerthConfigFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_FullFile_ReadsEveryField()
    {
        _dir.Write("api/Dockerfile", "FROM scratch\n");
        _dir.Write("api/app.py", "print('hi')\n");
        var path = _dir.Write("berth.jsonc", """
            {
              "$schema": "ignored",
              "name": "titanic",
              "containers": [
                {
                  "class_name": "FastApiContainer",
                  "image": "./api/Dockerfile",
                  "image_vars": { "PYTHON": "3.11" },
                  "instance_type": { "vcpu": 2, "memory_mib": 4096, "disk_mb": 8000 },
                  "max_instances": 5,
                  "sleep_after": "1h30m"
                },
                { "class_name": "Worker", "image": "registry.local:5000/team/worker:1.2", "instance_type": "standard-2" }
              ],
              "triggers": { "crons": ["*/2 * * * *"] },
              "vars": { "GREETING": "hello", "RETRIES": 3, "DEBUG": true }
            }
            """);

        var config = BerthConfigFile.Load(path);

        Assert.Equal("titanic", config.Name);
        Assert.Equal(path, config.FilePath);
        var api = config.Containers[0];
        Assert.Equal("FastApiContainer", api.ClassName);
        var build = Assert.IsType<DockerfileImage>(api.Image);
        Assert.Equal(Path.Combine(_dir.Path, "api", "Dockerfile"), build.DockerfilePath);
        Assert.Equal(Path.Combine(_dir.Path, "api"), build.ContextDirectory);
        Assert.Equal("3.11", build.BuildArgs["PYTHON"]);
        Assert.Equal(("custom", 2.0, 4096, 8000), (api.InstanceType!.Name, api.InstanceType.Vcpu, api.InstanceType.MemoryMib, api.InstanceType.DiskMb));
        Assert.Equal(5, api.MaxInstances);
        Assert.Equal(TimeSpan.FromMinutes(90), api.SleepAfter);
        var worker = config.FindContainer("Worker")!;
        Assert.Equal(new ImageReference("registry.local:5000/team/worker:1.2"), worker.Image);
        Assert.Same(InstanceType.Standard2, worker.InstanceType);
        Assert.Equal(["*/2 * * * *"], config.Crons);
        Assert.Equal(new Dictionary<string, string> { ["GREETING"] = "hello", ["RETRIES"] = "3", ["DEBUG"] = "true" }, config.Vars);
    }

    [Fact]
    public void Parse_MinimalContainer_LeavesAbsentFieldsUnset()
    {
        var config = BerthConfigFile.Parse("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox" } ] }""", _dir.Path);

        var container = Assert.Single(config.Containers);
        Assert.Null(container.InstanceType);
        Assert.Null(container.MaxInstances);
        Assert.Null(container.SleepAfter);
        Assert.Empty(config.Crons);
        Assert.Empty(config.Vars);
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_Accepted()
    {
        var config = BerthConfigFile.Parse("""
            // the app
            {
              "name": "app", /* block comment */
              "containers": [
                { "class_name": "C", "image": "busybox", },
              ],
              "vars": { "A": "1", },
            }
            """, _dir.Path);

        Assert.Equal("C", config.Containers[0].ClassName);
        Assert.Equal("1", config.Vars["A"]);
    }

    [Fact]
    public void Parse_DurableObjectBindings_RejectedAsNotSupportedYet()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "app", "durable_objects": { "bindings": [ { "name": "API", "class_name": "Api" } ] } }""", _dir.Path));

        Assert.Equal(
            "durable_objects: field 'durable_objects' is not supported yet; remove it (Berth does not act on it, so it would be silently ignored)",
            Assert.Single(ex.Problems));
    }

    [Fact]
    public void AddBerth_FileWithoutInstanceTypeOrMaxInstances_KeepsWhatTheClassSetsInCode()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "CodeConfigured", "image": "busybox:1" } ] }""");
        var options = ClassOptions(o => (o.InstanceType, o.MaxInstances) = (InstanceType.Standard2, 3));

        Assert.Same(InstanceType.Standard2, options.InstanceType);
        Assert.Equal(3, options.MaxInstances);
        Assert.Equal("busybox:1", options.Image);
    }

    [Fact]
    public void AddBerth_FileWithoutInstanceType_LeavesTheContainersOwnChoice()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "CodeConfigured", "image": "busybox:1" } ] }""");
        var options = ClassOptions(configure: null);

        // Null: Container.InstanceType, which the class overrides, decides; a file default would override it.
        Assert.Null(options.InstanceType);
        Assert.Equal(Berth.Containers.ContainerClassOptions.DefaultMaxInstances, options.MaxInstances);
    }

    [Fact]
    public void AddBerth_FileWithInstanceType_OverridesCode()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "CodeConfigured", "image": "busybox:1", "instance_type": "basic", "max_instances": 7 } ] }""");
        var options = ClassOptions(o => (o.InstanceType, o.MaxInstances) = (InstanceType.Standard2, 3));

        Assert.Same(InstanceType.Basic, options.InstanceType);
        Assert.Equal(7, options.MaxInstances);
    }

    /// <summary>The settings <see cref="CodeConfigured"/> ends up with after AddBerth reads the file in the temp directory.</summary>
    private Berth.Containers.ContainerClassOptions ClassOptions(Action<Berth.Containers.ContainerClassOptions>? configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.AddBerth(berth => berth.UseConfigFile().AddContainer<CodeConfigured>(configure));
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptionsMonitor<Berth.Containers.ContainerClassOptions>>().Get(nameof(CodeConfigured));
    }

    [Fact]
    public void Parse_UnknownInstanceType_NamesFieldValueAndAllowed()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": "huge" } ] }""", _dir.Path));

        Assert.Equal(
            "containers[0].instance_type: 'huge' is not allowed; allowed: lite, dev, basic, standard-1, standard, standard-2, standard-3, standard-4 or {vcpu 1–4, memory_mib ≤ 12288, disk_mb ≤ 20000}",
            Assert.Single(ex.Problems));
    }

    [Theory]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": { "vcpu": 8, "memory_mib": 1024, "disk_mb": 1000 } } ] }""",
        "containers[0].instance_type.vcpu: 8 is not allowed; allowed: a number 1–4")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": { "vcpu": 1, "memory_mib": 20000, "disk_mb": 1000 } } ] }""",
        "containers[0].instance_type.memory_mib: 20000 is not allowed; allowed: an integer 128–12288")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": { "vcpu": 1, "memory_mib": 1024 } } ] }""",
        "containers[0].instance_type.disk_mb: required when instance_type is an object")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "max_instances": 0 } ] }""",
        "containers[0].max_instances: 0 is not allowed; allowed: an integer ≥ 1")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "max_instances": "many" } ] }""",
        "containers[0].max_instances: 'many' is not allowed; allowed: an integer ≥ 1")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "sleep_after": "ten minutes" } ] }""",
        "containers[0].sleep_after: 'ten minutes' is not allowed; allowed: a duration greater than 0 such as '30s', '10m' or '1h30m' (units ms, s, m, h)")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "my-class", "image": "busybox" } ] }""",
        "containers[0].class_name: 'my-class' is not allowed; allowed: a C# identifier (letters, digits and '_', not starting with a digit)")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "Not An Image" } ] }""",
        "containers[0].image: 'Not An Image' is not allowed; allowed: a Dockerfile path (ending in 'Dockerfile' or '.Dockerfile', or starting with './' or '../') or an image reference such as 'my-api:1.0'")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "image_vars": { "A": "1" } } ] }""",
        "containers[0].image_vars: is not allowed; allowed: only when image is a Dockerfile path")]
    [InlineData("""{ "name": "My App" }""",
        "name: 'My App' is not allowed; allowed: lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit")]
    [InlineData("""{ }""", "name: required; allowed: lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit")]
    [InlineData("""{ "name": "app", "triggers": { "crons": ["*/2 * * *"] } }""", "triggers.crons[0]: '*/2 * * *' is not allowed: it has 4 fields, not 5")]
    [InlineData("""{ "name": "app", "triggers": { "crons": ["0 */2 * * * *"] } }""",
        "allowed: five fields 'minute hour day-of-month month day-of-week' in UTC, such as '*/2 * * * *' or '0 9 * * MON-FRI'")]
    [InlineData("""{ "name": "app", "vars": { "A": { "nested": 1 } } }""", "vars.A: { \"nested\": 1 } is not allowed; allowed: a string, number or boolean")]
    [InlineData("""{ "name": "app", "containers": {} }""", "containers: {} is not allowed; allowed: an array of container objects")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "enable_internet": "no" } ] }""", "containers[0].enable_internet: 'no' is not allowed; allowed: true or false")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "allowed_hosts": ["ok.test", "bad host"] } ] }""", "containers[0].allowed_hosts[1]: 'bad host' is not allowed")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "denied_hosts": "*.test" } ] }""", "containers[0].denied_hosts: '*.test' is not allowed; allowed: an array of host globs")]
    public void Parse_BadValue_NamesFieldValueAndAllowed(string json, string expected)
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(json, _dir.Path));

        Assert.Contains(ex.Problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EgressFields_ReadAsWritten()
    {
        var config = BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "enable_internet": false, "allowed_hosts": ["*.example.com", "api.*.internal"], "denied_hosts": ["secret.example.com"] } ] }""",
            _dir.Path);

        var container = Assert.Single(config.Containers);
        Assert.False(container.EnableInternet);
        Assert.Equal(["*.example.com", "api.*.internal"], container.AllowedHosts);
        Assert.Equal(["secret.example.com"], container.DeniedHosts);
    }

    [Fact]
    public void Parse_EgressFieldsAbsent_LeaveTheClassesOwn()
    {
        var container = Assert.Single(BerthConfigFile.Parse("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox" } ] }""", _dir.Path).Containers);
        Assert.Null(container.EnableInternet);
        Assert.Null(container.AllowedHosts);
        Assert.Null(container.DeniedHosts);
    }

    [Fact]
    public void Parse_MisspeltField_SuggestsClosestAndListsKnown()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "max_instance": 3 } ] }""", _dir.Path));

        Assert.Equal(
            "containers[0].max_instance: unknown field 'max_instance' is not allowed; did you mean 'max_instances'? allowed: class_name, image, "
            + "image_build_context, image_vars, instance_type, max_instances, sleep_after, runtime, init, enable_internet, allowed_hosts, denied_hosts, "
            + "rollout_step_percentage, rollout_active_grace_period, rollout_stop_grace_period, autoscaling, prewarmed_instances",
            Assert.Single(ex.Problems));
    }

    [Fact]
    public void Parse_UnknownTopLevelField_ListsKnownFields()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse("""{ "name": "app", "main": "src/index.ts", "trigers": {} }""", _dir.Path));

        Assert.Equal(
        [
            "main: unknown field 'main' is not allowed; allowed: $schema, name, containers, triggers, vars, keep_versions, cluster, metering",
            "trigers: unknown field 'trigers' is not allowed; did you mean 'triggers'? allowed: $schema, name, containers, triggers, vars, keep_versions, cluster, metering",
        ], ex.Problems);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsAllAtOnce()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse("""
            {
              "containers": [
                { "class_name": "Api", "image": "api:1", "max_instances": 0 },
                { "class_name": "Api", "image": "api:2", "instance_type": "huge" }
              ],
              "triggers": { "crons": ["every minute"] }
            }
            """, _dir.Path));

        Assert.Equal(
        [
            "name: required; allowed: lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit",
            "containers[0].max_instances: 0 is not allowed; allowed: an integer ≥ 1",
            "containers[1].instance_type: 'huge' is not allowed; allowed: lite, dev, basic, standard-1, standard, standard-2, standard-3, standard-4 or {vcpu 1–4, memory_mib ≤ 12288, disk_mb ≤ 20000}",
            "containers[1].class_name: 'Api' is not allowed; allowed: a class name not used before (already used by containers[0])",
        ], ex.Problems.Take(4));
        Assert.StartsWith("triggers.crons[0]: 'every minute' is not allowed", ex.Problems[4], StringComparison.Ordinal);
        Assert.Equal(5, ex.Problems.Count);
        Assert.StartsWith("Invalid Berth config (5 problems):", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingDockerfile_NamesPathLookedFor()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "./container/Dockerfile" } ] }""", _dir.Path));

        Assert.Equal(
            $"containers[0].image: './container/Dockerfile' is not allowed; allowed: a Dockerfile that exists (looked for {Path.Combine(_dir.Path, "container", "Dockerfile")}) or an image reference",
            Assert.Single(ex.Problems));
    }

    [Fact]
    public void Parse_BuildContextWithoutDockerfile_Refused()
    {
        _dir.Write("a/Dockerfile", "FROM scratch");
        Directory.CreateDirectory(Path.Combine(_dir.Path, "b"));

        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "a/Dockerfile", "image_build_context": "b" } ] }""", _dir.Path));

        Assert.Equal(
            $"containers[0].image_build_context: 'b' is not allowed; allowed: a directory that contains the Dockerfile {Path.Combine(_dir.Path, "a", "Dockerfile")}",
            Assert.Single(ex.Problems));
    }

    [Fact]
    public void Parse_PathWithSlashToExistingFile_IsABuild()
    {
        _dir.Write("images/api.containerfile", "FROM scratch");

        var config = BerthConfigFile.Parse(
            """{ "name": "app", "containers": [ { "class_name": "C", "image": "images/api.containerfile", "image_build_context": "." } ] }""", _dir.Path);

        var build = Assert.IsType<DockerfileImage>(config.Containers[0].Image);
        Assert.Equal(_dir.Path, build.ContextDirectory);
    }

    [Fact]
    public void Parse_InvalidJson_ReportsLineAndColumn()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse("{\n  \"name\": \"app\"\n  \"containers\": []\n}", _dir.Path));

        Assert.StartsWith("line 3, column 3: not valid JSON with comments:", Assert.Single(ex.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RepeatedField_Refused()
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse("""{ "name": "app", "name": "other" }""", _dir.Path));

        Assert.Equal("name: field 'name' appears twice; allowed: each field once", Assert.Single(ex.Problems));
    }

    [Fact]
    public void Load_MissingFile_SaysSo()
    {
        var path = Path.Combine(_dir.Path, "berth.jsonc");

        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Load(path));

        Assert.Equal(path, ex.FilePath);
        Assert.Contains($"Invalid Berth config '{path}' (1 problem):", ex.Message, StringComparison.Ordinal);
        Assert.Contains("the file does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBerthConfig_ValidFile_RegistersOptionsAndVarsWithLowestPrecedence()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "vars": { "GREETING": "hello", "COLOR": "blue" } }""");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["COLOR"] = "red" });

        builder.AddBerthConfig();
        using var host = builder.Build();

        Assert.Equal("app", host.Services.GetRequiredService<IOptions<BerthAppConfig>>().Value.Name);
        Assert.Same(host.Services.GetRequiredService<BerthAppConfig>(), host.Services.GetRequiredService<IOptions<BerthAppConfig>>().Value);
        Assert.Equal("hello", builder.Configuration["GREETING"]);
        Assert.Equal("red", builder.Configuration["COLOR"]);
    }

    [Fact]
    public void AddBerthConfig_InvalidFile_FailsAtStartUp()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": "huge" } ] }""");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });

        var ex = Assert.Throws<BerthConfigException>(() => builder.AddBerthConfig());

        Assert.Contains("containers[0].instance_type: 'huge' is not allowed", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>A container class that chooses its instance type and limit in code.</summary>
public sealed class CodeConfigured : Berth.Containers.Container
{
    // The class's own choice, which a config file without instance_type must not override.
    public CodeConfigured() => InstanceType = InstanceType.Standard1;
}
