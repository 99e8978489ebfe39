using Berth.Hosting;

namespace Berth.Samples.Docs;

/// <summary>docs/configuration.md.</summary>
internal static class ConfigurationDocs
{
    public static WebApplicationBuilder Load(string[] args)
    {
        // snippet: load
        var builder = WebApplication.CreateBuilder(args);
        builder.AddBerthConfig();             // loads ./berth.jsonc (relative to the content root), or refuses to start
        // builder.AddBerthConfig("config/berth.jsonc");
        // builder.Services.AddBerthConfig(path);   // the same without touching IConfiguration
        // end snippet: load
        return builder;
    }

    public static void Vars(WebApplication app)
    {
        // snippet: vars
        app.MapGet("/model", (IConfiguration config) => config["MODEL_NAME"]);
        // end snippet: vars
    }
}
