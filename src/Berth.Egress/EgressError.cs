using System.Text.Json.Serialization;

namespace Berth.Egress;

/// <summary>
/// The JSON body of an error the egress proxy answers to a container's HTTP request, in the gateway errors' shape
/// (<c>error</c>, <c>message</c>) plus the host and rule. Codes: <see cref="EgressErrorCodes"/>.
/// </summary>
/// <param name="Error">A stable code from <see cref="EgressErrorCodes"/>.</param>
/// <param name="Message">For people; may change.</param>
/// <param name="Host">The host the container asked for, when known.</param>
/// <param name="Rule">The rule that denied it, when one did.</param>
public sealed record EgressError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("host"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Host,
    [property: JsonPropertyName("rule"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Rule);

/// <summary>The codes of <see cref="EgressError"/> (documented in <c>docs/egress.md</c>).</summary>
public static class EgressErrorCodes
{
    /// <summary>403: the class's policy does not let the container reach the host.</summary>
    public const string Denied = "egress_denied";

    /// <summary>400: not an HTTP/1.x request the proxy reads (nor TLS).</summary>
    public const string BadRequest = "egress_bad_request";

    /// <summary>502: the allowed host did not resolve or refused the connection.</summary>
    public const string UpstreamUnreachable = "egress_upstream_unreachable";

    /// <summary>403: the host resolved to an address the proxy never connects to (loopback, private, link-local, this host's or a bridge's network; see <see cref="EgressAddressFilter"/>).</summary>
    public const string AddressDenied = "egress_address_denied";

    /// <summary>403: the port is not in the node's allowed ports (<see cref="EgressOptions.AllowedPorts"/>, 80 and 443 by default).</summary>
    public const string PortDenied = "egress_port_denied";

    /// <summary>Every code, for the docs test.</summary>
    public static IReadOnlyList<string> All { get; } = [Denied, BadRequest, UpstreamUnreachable, AddressDenied, PortDenied];
}

[JsonSerializable(typeof(EgressError))]
internal sealed partial class EgressErrorJson : JsonSerializerContext;
