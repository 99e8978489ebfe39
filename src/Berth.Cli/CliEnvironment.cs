namespace Berth.Cli;

/// <summary>
/// What <c>berth</c> reads from its surroundings: environment variables, the working directory, the clock, standard input
/// and, for tests, the HTTP handler the admin client sends through.
/// </summary>
/// <param name="GetVariable">Reads an environment variable; <see langword="null"/> when unset.</param>
/// <param name="CurrentDirectory">Where <c>.berth/dev.json</c> is looked for (this directory and its parents).</param>
/// <param name="Time">The clock, for <c>--since 10m</c> and uptimes.</param>
/// <param name="Input">Standard input, read by <c>containers exec -i</c>; <see langword="null"/> when there is none.</param>
/// <param name="Handler">The handler admin requests go through; <see langword="null"/> for a real socket handler.</param>
/// <param name="IsBerthDev">
/// Whether a running process is a <c>berth dev</c>, for trusting <c>.berth/dev.json</c>; <see langword="null"/> for
/// <see cref="DevState.IsBerthDevProcess(int)"/> (tests name their own process instead).
/// </param>
internal sealed record CliEnvironment(
    Func<string, string?> GetVariable,
    string CurrentDirectory,
    TimeProvider Time,
    Stream? Input,
    HttpMessageHandler? Handler,
    Func<int, bool>? IsBerthDev = null)
{
    /// <summary>The running <c>berth dev</c>'s state found from <see cref="CurrentDirectory"/>, as <see cref="DevState.Find"/>.</summary>
    public DevState? FindDevState(Action<string>? ignored = null) =>
        DevState.Find(CurrentDirectory, IsBerthDev ?? DevState.IsBerthDevProcess, ignored);

    /// <summary>The process's own environment, directory, clock and standard input.</summary>
    public static CliEnvironment Process(Stream? input) =>
        new(Environment.GetEnvironmentVariable, Environment.CurrentDirectory, TimeProvider.System, input, null);
}
