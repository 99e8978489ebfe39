using Berth.Hosting;

namespace Berth.Samples.Docs;

/// <summary>docs/dashboard.md.</summary>
internal static class DashboardDocs
{
    public static WebApplication Dashboard(WebApplicationBuilder builder)
    {
        // snippet: dashboard
        builder.AddBerth(berth => berth.UseConfigFile());   // registers the admin API's token too
        var app = builder.Build();
        app.MapBerthAdmin();                  // the data: /_berth/admin/...
        app.MapBerthDashboard();              // the pages: /_berth/dashboard/
        // end snippet: dashboard
        return app;
    }
}
