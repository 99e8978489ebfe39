using System.Text;

namespace Berth.Objects;

/// <summary>The HTTP response an object returns from <see cref="IDurableObject.FetchAsync"/>.</summary>
/// <param name="Status">The HTTP status code.</param>
[GenerateSerializer]
public sealed record FetchResponse([property: Id(0)] int Status)
{
    /// <summary>Gets the response headers; a name may repeat.</summary>
    [Id(1)]
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Gets the response body.</summary>
    [Id(2)]
    public byte[] Body { get; init; } = [];

    /// <summary>Creates a <c>text/plain</c> response.</summary>
    public static FetchResponse Text(string text, int status = 200) => new(status)
    {
        Headers = [new("Content-Type", "text/plain; charset=utf-8")],
        Body = Encoding.UTF8.GetBytes(text),
    };
}
