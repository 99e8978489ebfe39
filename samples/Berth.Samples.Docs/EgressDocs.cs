using Berth.Containers;

namespace Berth.Samples.Docs.Egress;

// snippet: class
public sealed class Agent : Container
{
    public Agent()
    {
        EnableInternet = true;                 // default true (the seed's); false: no route out at all
        AllowedHosts.Add("*.pypi.org");        // non-empty: only these hosts
        AllowedHosts.Add("api.*.internal");
        DeniedHosts.Add("upload.pypi.org");    // deny wins over allow
    }
}
// end snippet: class

// snippet: outbound
public sealed class Sandbox : Container
{
    public Sandbox()
    {
        EnableInternet = false;                // nothing gets out, except what the object answers:

        // The container's `curl http://api.internal/settings/theme` is answered here, with the object's storage at hand.
        OutboundByHost["api.internal"] = async (request, response, ct) =>
        {
            var value = Context.Storage.Get<string>(request.PathAndQuery.TrimStart('/'));
            response.StatusCode = value is null ? 404 : 200;
            response.SetHeader("Content-Type", "text/plain; charset=utf-8");
            await response.WriteAsync(value ?? "", ct);
        };

        // Globs too; bodies stream both ways (a 50 MB upload is read as it arrives).
        OutboundByHost["*.blobs.internal"] = async (request, response, ct) =>
        {
            long size = 0;
            var buffer = new byte[64 * 1024];
            for (int read; (read = await request.Body.ReadAsync(buffer, ct)) > 0;)
            {
                size += read;
            }

            await response.WriteAsync($"{size} bytes\n", ct);
        };

        // The catch-all: plain HTTP to every other host (without it, they follow the egress policy).
        Outbound = (request, response, ct) =>
        {
            response.StatusCode = 403;
            return response.WriteAsync($"{request.Host} is not reachable from this sandbox\n", ct);
        };
    }
}
// end snippet: outbound
