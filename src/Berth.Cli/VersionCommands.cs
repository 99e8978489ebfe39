using System.CommandLine;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json;
using Spectre.Console;

namespace Berth.Cli;

// berth deploy / versions list|show / rollouts status / rollback (issue 13; docs/deploys.md).
internal sealed partial class BerthCli
{
    /// <summary>How often <c>berth deploy</c> asks for the rollout's progress.</summary>
    private static readonly TimeSpan RolloutPollInterval = TimeSpan.FromSeconds(1);

    private Option<string?> ClassOption() => new("--class", "-c")
    {
        Description = "The container class (optional when berth.jsonc in the current directory has only one)",
    };

    private Command CreateDeployCommand()
    {
        var className = ClassOption();
        var image = new Option<string?>("--image") { Description = "Deploy this image reference instead of building the class's Dockerfile" };
        var percent = new Option<int>("--percent")
        {
            Description = "Share of object IDs (sticky per ID) that start on the new version; below 100 starts a traffic split",
            DefaultValueFactory = _ => 100,
        };
        percent.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100)
            {
                r.AddError("--percent: allowed 1–100.");
            }
        });
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the version is recorded and its rollout started" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var deploy = new Command("deploy",
            "Build the class's Dockerfile (from berth.jsonc) or take --image, push it to the node's registry, record a version and roll it out. "
            + "Exit codes: 0 done, 1 build/push/rollout failed (nothing changed on a failed build), 64 usage, 66 unknown class or --image not found, 69 host unreachable, 77 token.")
        {
            className, image, percent, noWait, json,
        };
        deploy.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var project = ProjectClasses.Load(_environment.CurrentDirectory);
            var target = ResolveClass(parse.GetValue(className), project);
            DeployInfo result;
            var imageReference = parse.GetValue(image);
            if (imageReference is not null)
            {
                using var body = AdminClient.ImageBody(imageReference);
                result = await client.DeployAsync(target, body, parse.GetValue(percent), null, ct);
            }
            else
            {
                var entry = project?.FirstOrDefault(c => c.ClassName == target);
                if (entry?.Dockerfile is not { } dockerfile || entry.ContextDirectory is not { } context)
                {
                    throw new CliException(ExitCodes.Usage,
                        $"Class '{target}' has no Dockerfile in berth.jsonc here ({_environment.CurrentDirectory}); run from the project directory or pass --image.");
                }

                if (!File.Exists(dockerfile))
                {
                    throw new CliException(ExitCodes.NotFound, $"The Dockerfile of class '{target}' does not exist: {dockerfile}.");
                }

                var relative = Path.GetRelativePath(context, dockerfile).Replace('\\', '/');
                await _error.WriteLineAsync($"Uploading the build context {context} for class '{target}'...");

                // The archive is written into a pipe as the request reads it: the context is never held in memory whole.
                var pipe = new Pipe();
                var writing = Task.Run(async () =>
                {
                    await using var stream = pipe.Writer.AsStream();
                    try
                    {
                        await ProjectClasses.WriteContextAsync(context, relative, stream, ct);
                    }
                    catch (Exception ex)
                    {
                        await pipe.Writer.CompleteAsync(ex);
                        throw;
                    }
                }, ct);
                using var body = new StreamContent(pipe.Reader.AsStream());
                body.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
                result = await client.DeployAsync(target, body, parse.GetValue(percent), relative, ct);
                await writing;
            }

            if (parse.GetValue(json))
            {
                await _output.WriteLineAsync(JsonSerializer.Serialize(result, Json));
                return ExitCodes.Success;
            }

            await _output.WriteLineAsync($"Version {result.Version.Number} of {target}: {result.Version.Image}");
            if (result.Rollout is null || parse.GetValue(noWait))
            {
                await _output.WriteLineAsync(result.Rollout is null ? "It is current: new activations start on it." : Describe(result.Rollout));
                return ExitCodes.Success;
            }

            return await FollowRolloutAsync(client, target, result.Rollout, ct);
        }));
        return deploy;
    }

    /// <summary>
    /// Polls the rollout until it ends: on a terminal, a live Spectre progress bar per step (instances replaced / total);
    /// otherwise one line per change.
    /// </summary>
    private async Task<int> FollowRolloutAsync(AdminClient client, string className, RolloutInfo rollout, CancellationToken cancellationToken)
    {
        if (ReferenceEquals(_output, Console.Out) && !Console.IsOutputRedirected)
        {
            var ended = rollout;
            await AnsiConsole.Progress().AutoClear(false).StartAsync(async progress =>
            {
                var bars = new Dictionary<int, ProgressTask>();
                while (true)
                {
                    var step = Math.Min(ended.StepIndex, Math.Max(ended.Steps.Count - 1, 0));
                    if (!bars.TryGetValue(step, out var bar))
                    {
                        var percent = ended.Steps.Count == 0 ? 100 : ended.Steps[step];
                        bar = bars[step] = progress.AddTask($"v{ended.ToVersion} step {step + 1}/{Math.Max(ended.Steps.Count, 1)} ({percent}%)", maxValue: Math.Max(ended.Total, 1));
                    }

                    foreach (var done in bars.Where(b => b.Key < step))
                    {
                        done.Value.Value = done.Value.MaxValue;
                    }

                    bar.Value = ended.Total == 0 ? bar.MaxValue : ended.Replaced;
                    if (ended.State != "running")
                    {
                        bar.Value = ended.State == "completed" ? bar.MaxValue : bar.Value;
                        return;
                    }

                    await Task.Delay(RolloutPollInterval, _environment.Time, cancellationToken);
                    ended = await client.RolloutAsync(className, cancellationToken) ?? ended;
                }
            });
            await _output.WriteLineAsync(Describe(ended));
            return ended.State == "failed" ? ExitCodes.DeployFailed : ExitCodes.Success;
        }

        var last = "";
        while (true)
        {
            var line = Describe(rollout);
            if (line != last)
            {
                await _output.WriteLineAsync(line);
                last = line;
            }

            if (rollout.State != "running")
            {
                return rollout.State == "failed" ? ExitCodes.DeployFailed : ExitCodes.Success;
            }

            await Task.Delay(RolloutPollInterval, _environment.Time, cancellationToken);
            rollout = await client.RolloutAsync(className, cancellationToken) ?? rollout;
        }
    }

    private static string Describe(RolloutInfo r)
    {
        var step = r.Steps.Count == 0 ? "" : $" step {Math.Min(r.StepIndex + 1, r.Steps.Count)}/{r.Steps.Count} ({r.Steps[Math.Min(r.StepIndex, r.Steps.Count - 1)]}%)";
        var width = 30;
        var filled = r.Total == 0 ? width : (int)Math.Round(width * (double)r.Replaced / r.Total);
        return $"Rollout v{r.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "-"} → v{r.ToVersion} {r.State}{step} [{new string('#', filled)}{new string('.', width - filled)}] "
            + $"{r.Replaced}/{r.Total} replaced{(r.Error is { } e ? $": {e}" : "")}";
    }

    private Command CreateVersionsCommand()
    {
        var className = ClassOption();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "List the class's versions, newest first; * marks the current one, + a split's candidate") { className, json };
        list.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var versions = await client.VersionsAsync(ResolveClass(parse.GetValue(className), ProjectClasses.Load(_environment.CurrentDirectory)), ct);
            if (parse.GetValue(json))
            {
                await _output.WriteLineAsync(JsonSerializer.Serialize(versions, Json));
                return ExitCodes.Success;
            }

            await _output.WriteLineAsync($"{"",2}{"VERSION",-8} {"CREATED",-20} {"TRIGGER",-9} IMAGE");
            foreach (var v in versions.Versions)
            {
                var mark = v.Number == versions.Current ? "*" : v.Number == versions.Candidate ? "+" : " ";
                await _output.WriteLineAsync(
                    $"{mark} {v.Number,-8} {v.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-20} {v.Trigger,-9} {v.Image}");
            }

            if (versions.Candidate is { } candidate)
            {
                await _output.WriteLineAsync($"Traffic split: {versions.CandidatePercent}% of object IDs start on version {candidate}, the rest on {versions.Current}.");
            }

            return ExitCodes.Success;
        }));

        var number = new Argument<int>("version") { Description = "The version number" };
        var show = new Command("show", "Show one version") { number, className, json };
        show.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var v = await client.VersionAsync(ResolveClass(parse.GetValue(className), ProjectClasses.Load(_environment.CurrentDirectory)), parse.GetValue(number), ct);
            await _output.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(v, Json)
                : $"Class:       {v.ClassName}\nVersion:     {v.Number}\nImage:       {v.Image}\nDigest:      {v.Digest ?? "-"}\n"
                  + $"Config hash: {v.ConfigHash}\nCreated:     {v.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\nTrigger:     {v.Trigger}");
            return ExitCodes.Success;
        }));

        return new Command("versions", "The recorded versions of a container class") { list, show };
    }

    private Command CreateRolloutsCommand()
    {
        var className = ClassOption();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var status = new Command("status", "Show the newest rollout of the class (or, without --class and with several classes, of every class)") { className, json };
        status.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var project = ProjectClasses.Load(_environment.CurrentDirectory);
            IReadOnlyList<RolloutInfo> rollouts = parse.GetValue(className) is null && project is not { Count: 1 }
                ? await client.RolloutsAsync(ct)
                : await client.RolloutAsync(ResolveClass(parse.GetValue(className), project), ct) is { } one ? [one] : [];
            if (parse.GetValue(json))
            {
                await _output.WriteLineAsync(JsonSerializer.Serialize(rollouts, Json));
                return ExitCodes.Success;
            }

            if (rollouts.Count == 0)
            {
                await _output.WriteLineAsync("No rollouts.");
            }

            foreach (var rollout in rollouts)
            {
                await _output.WriteLineAsync($"{rollout.ClassName}: {Describe(rollout)}");
            }

            return ExitCodes.Success;
        }));
        return new Command("rollouts", "Rollouts of new versions") { status };
    }

    private Command CreateRollbackCommand()
    {
        var className = ClassOption();
        var number = new Argument<int?>("version") { Description = "The version to return to (default: the one before the current)", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the rollback's rollout started" };
        var rollback = new Command("rollback",
            "Roll the class back to an earlier version, the same way a deploy rolls out, and follow that rollout until it ends (unless --no-wait). "
            + "Exit codes: 0 done, 1 the rollout failed, 64 usage, 65 no earlier version, 66 unknown class or version, 69 host unreachable, 77 token.")
        {
            number, className, noWait, json,
        };
        rollback.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var target = ResolveClass(parse.GetValue(className), ProjectClasses.Load(_environment.CurrentDirectory));
            var result = await client.RollbackAsync(target, parse.GetValue(number), ct);
            if (parse.GetValue(json))
            {
                await _output.WriteLineAsync(JsonSerializer.Serialize(result, Json));
                return ExitCodes.Success;
            }

            await _output.WriteLineAsync($"Rolling {target} back to version {result.Version.Number}: {result.Version.Image}");
            if (result.Rollout is null || parse.GetValue(noWait))
            {
                await _output.WriteLineAsync(result.Rollout is null ? "It is current: new activations start on it." : Describe(result.Rollout));
                return ExitCodes.Success;
            }

            // As deploy does: the command ends when the rollout does, so a script's next step finds the old version running.
            return await FollowRolloutAsync(client, target, result.Rollout, ct);
        }));
        return rollback;
    }

    /// <summary>--class, else the only class of berth.jsonc here.</summary>
    private static string ResolveClass(string? option, IReadOnlyList<ProjectClass>? project)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return option.Trim();
        }

        return project switch
        {
            { Count: 1 } => project[0].ClassName,
            null => throw new CliException(ExitCodes.Usage, "--class is required: there is no berth.jsonc in the current directory to pick the class from."),
            _ => throw new CliException(ExitCodes.Usage,
                $"--class is required: berth.jsonc has {project.Count} classes ({string.Join(", ", project.Select(c => c.ClassName).DefaultIfEmpty("none"))})."),
        };
    }
}
