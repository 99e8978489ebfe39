using System.Text;

namespace Berth.Objects;

/// <summary>An HTTP request delivered to <see cref="IDurableObject.FetchAsync"/>.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Url">The request URL (absolute or path and query).</param>
[GenerateSerializer]
public sealed record FetchRequest([property: Id(0)] string Method, [property: Id(1)] string Url)
{
    /// <summary>Gets the request headers; a name may repeat.</summary>
    [Id(2)]
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Gets the request body.</summary>
    [Id(3)]
    public byte[] Body { get; init; } = [];
}
