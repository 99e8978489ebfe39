using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The admin API's bearer token: the configured one, or a random one created at start and written to
/// <c>{DataDirectory}/admin-token</c> with mode 0600 so that only the owner (and the CLI run by the owner) can read it.
/// </summary>
internal sealed partial class AdminToken : IHostedService
{
    private readonly Lazy<byte[]> _token;

    public AdminToken(IOptions<AdminOptions> options, IHostEnvironment environment, ILogger<AdminToken> logger)
    {
        FilePath = Path.Combine(Path.GetFullPath(options.Value.DataDirectory, environment.ContentRootPath), AdminOptions.TokenFileName);

        // Lazy, so a request that arrives before the hosted services have started still sees the same token.
        _token = new Lazy<byte[]>(() =>
        {
            if (options.Value.Token is { } configured)
            {
                Log.UsingConfigured(logger);
                return Encoding.UTF8.GetBytes(configured);
            }

            var generated = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            WriteOwnerOnly(FilePath, generated);
            Log.Generated(logger, FilePath);
            return Encoding.UTF8.GetBytes(generated);
        });
    }

    /// <summary>Where a generated token is written.</summary>
    public string FilePath { get; }

    /// <summary>Compares in constant time, so the token cannot be guessed byte by byte from response times.</summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        var bytes = Encoding.UTF8.GetBytes(presented.ToArray());
        return CryptographicOperations.FixedTimeEquals(bytes, _token.Value);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = _token.Value;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void WriteOwnerOnly(string path, string token)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // Create a fresh file with 0600 from the start (never briefly world-readable), then swap it in.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            File.Delete(temporary);
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporary, Encoding.ASCII, fileOptions))
        {
            writer.Write(token);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
