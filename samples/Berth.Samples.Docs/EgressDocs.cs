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
