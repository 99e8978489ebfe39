using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Runtime;
using Docker.DotNet;

namespace Berth.Docker;

/// <summary>What a call was about, so a 404 becomes the right <see cref="ContainerRuntimeError"/>.</summary>
internal enum Subject
{
    Engine,
    Container,
    Image,
    Network,
}

/// <summary>Turns Docker.DotNet and transport exceptions into <see cref="ContainerRuntimeException"/>s callers can act on.</summary>
internal static class DockerErrors
{
    public static bool IsNotFound(Exception exception) =>
        exception is DockerApiException { StatusCode: HttpStatusCode.NotFound };

    /// <summary>Returns the translated exception, or <see langword="null"/> when <paramref name="exception"/> should propagate as is.</summary>
    public static ContainerRuntimeException? Translate(Exception exception, Subject subject, string? name, Uri endpoint, CancellationToken cancellationToken)
    {
        if (exception is ContainerRuntimeException || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return null;
        }

        if (exception is DockerApiException api)
        {
            var message = EngineMessage(api);
            return api.StatusCode switch
            {
                HttpStatusCode.NotFound when exception is DockerImageNotFoundException || subject == Subject.Image =>
                    new(ContainerRuntimeError.ImageNotFound,
                        $"Image '{name}' does not exist on the Docker engine at {endpoint} and Berth does not pull images; build or import it first. Engine said: {message}", exception),
                HttpStatusCode.NotFound when subject == Subject.Container =>
                    new(ContainerRuntimeError.ContainerNotFound, $"Container '{name}' does not exist. Engine said: {message}", exception),
                HttpStatusCode.NotFound => new(ContainerRuntimeError.Unknown, $"{subject} '{name}' not found: {message}", exception),
                HttpStatusCode.Conflict => new(ContainerRuntimeError.Conflict, $"The Docker engine reported a conflict: {message}", exception),
                HttpStatusCode.BadRequest => new(ContainerRuntimeError.InvalidSpec, $"The Docker engine refused the request: {message}", exception),
                _ => new(ContainerRuntimeError.Unknown, $"The Docker engine failed on {subject.ToString().ToLowerInvariant()} '{name}' ({(int)api.StatusCode}): {message}", exception),
            };
        }

        if (IsUnreachable(exception))
        {
            return new(ContainerRuntimeError.EngineUnavailable,
                $"The Docker engine at {endpoint} is not reachable ({Innermost(exception).Message}). Is dockerd running? Set DOCKER_HOST or Docker:Endpoint to where it listens.",
                exception);
        }

        return null;
    }

    private static bool IsUnreachable(Exception exception) => exception switch
    {
        HttpRequestException or SocketException or IOException or TimeoutException or OperationCanceledException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsUnreachable),
        _ => exception.InnerException is { } inner && IsUnreachable(inner),
    };

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }

    /// <summary>The engine's own error text: the <c>message</c> field of its JSON body, else the raw body.</summary>
    public static string EngineMessage(DockerApiException exception)
    {
        var body = exception.ResponseBody?.Trim();
        if (string.IsNullOrEmpty(body))
        {
            return exception.StatusCode.ToString();
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("message", out var message)
                && message.GetString() is { } text)
            {
                return text;
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall back to the raw body.
        }

        return body;
    }
}
