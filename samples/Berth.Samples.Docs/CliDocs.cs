using Berth.Hosting;

namespace Berth.Samples.Docs;

/// <summary>docs/cli.md.</summary>
internal static class CliDocs
{
    public static WebApplication AdminApi(WebApplicationBuilder builder)
    {
        // snippet: admin
        builder.Services.AddBerthAdmin();     // options from the "Berth:Admin" configuration section
        var app = builder.Build();
        app.MapBerthAdmin();                  // endpoints under /_berth/admin
        // end snippet: admin
        return app;
    }
}
