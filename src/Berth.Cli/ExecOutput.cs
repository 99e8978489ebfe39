using System.Text;

namespace Berth.Cli;

/// <summary>
/// Where one stream of <c>berth containers exec</c> goes: the process's raw stream when there is one (bytes pass unchanged,
/// binary output included), else a text writer, decoding UTF-8 across frame boundaries.
/// </summary>
internal sealed class ExecOutput(TextWriter writer, Stream? raw)
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();

    public async Task WriteAsync(byte[] data, CancellationToken cancellationToken)
    {
        if (raw is not null)
        {
            await raw.WriteAsync(data, cancellationToken);
            await raw.FlushAsync(cancellationToken);
            return;
        }

        var chars = new char[_decoder.GetCharCount(data, flush: false)];
        var count = _decoder.GetChars(data, chars, flush: false);
        await writer.WriteAsync(chars.AsMemory(0, count), cancellationToken);
        await writer.FlushAsync(cancellationToken);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (raw is not null)
        {
            await raw.FlushAsync(cancellationToken);
            return;
        }

        var chars = new char[_decoder.GetCharCount([], flush: true)];
        var count = _decoder.GetChars([], chars, flush: true);
        await writer.WriteAsync(chars.AsMemory(0, count), cancellationToken);
        await writer.FlushAsync(cancellationToken);
    }
}
