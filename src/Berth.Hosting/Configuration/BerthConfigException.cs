using System.Text;

namespace Berth.Hosting;

/// <summary>
/// A <c>berth.jsonc</c> was refused. The message lists every problem found, one per line, each as
/// <c>field.path: 'value' is not allowed; allowed: ...</c>, so that one run fixes them all.
/// </summary>
/// <remarks>
/// An app that lets this exception escape (the usual case: <c>AddBerth(b =&gt; b.UseConfigFile())</c> in <c>Program.cs</c>)
/// does not end with a stack trace and exit code 134: the process prints <see cref="Exception.Message"/> to standard error
/// and exits with <see cref="ExitCode"/> (78, EX_CONFIG). An app that catches it decides for itself.
/// </remarks>
public sealed class BerthConfigException : Exception
{
    /// <summary>The exit code of a process that ends because of an unhandled config error: 78, EX_CONFIG of BSD <c>sysexits.h</c>.</summary>
    public const int ExitCode = 78;

    private static int s_exitHandlerInstalled;

    /// <summary>Creates the exception from the problems found in <paramref name="filePath"/>.</summary>
    public BerthConfigException(string? filePath, IReadOnlyList<string> problems)
        : base(Format(filePath, problems))
    {
        FilePath = filePath;
        Problems = problems;
        InstallExitHandler();
    }

    /// <summary>Full path of the refused file; <see langword="null"/> when parsed from a string.</summary>
    public string? FilePath { get; }

    /// <summary>Each problem, prefixed by the path of the field it concerns.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>
    /// Once per process: when a <see cref="BerthConfigException"/> goes unhandled, print its message (no stack trace) and
    /// exit with <see cref="ExitCode"/> instead of the runtime's crash (exit code 134 and a stack trace). Installed when the
    /// first one is created, so a process with a good config never has the handler.
    /// </summary>
    private static void InstallExitHandler()
    {
        if (Interlocked.Exchange(ref s_exitHandlerInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        }
    }

    private static void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        for (var exception = e.ExceptionObject as Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is BerthConfigException config)
            {
                Console.Error.WriteLine(config.Message);
                // Under `berth dev` the CLI says what happens next (it exits on the first start, waits for a change later).
                var next = Environment.GetEnvironmentVariable(DevImageWatcher.EnabledKey) == "1"
                    ? "Fix the file."
                    : "Fix the file and start it again.";
                Console.Error.WriteLine($"The app did not start (exit code {ExitCode}, EX_CONFIG). {next}");
                Console.Error.Flush();
                Environment.Exit(ExitCode);
            }
        }
    }

    private static string Format(string? filePath, IReadOnlyList<string> problems)
    {
        var text = new StringBuilder()
            .Append("Invalid Berth config")
            .Append(filePath is null ? "" : $" '{filePath}'")
            .Append(problems.Count == 1 ? " (1 problem):" : $" ({problems.Count} problems):");
        foreach (var problem in problems)
        {
            text.AppendLine().Append("  ").Append(problem);
        }

        return text.ToString();
    }
}
