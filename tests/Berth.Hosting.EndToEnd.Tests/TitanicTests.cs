using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Containers;
using Berth.Docker;
using Berth.Gateway;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;
using Titanic.Gateway;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>
/// The demo app hosted in-process: its config points at the real <c>Titanic.Model</c> Dockerfile (the model
/// published with Native AOT first when stale), the gateway maps <c>/api/*</c> to the one model container.
/// </summary>
public sealed class TitanicHostFixture : IAsyncLifetime
{
    private readonly AppDirectory _app = new();

    public BerthTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var model = Path.Combine(RepositoryRoot.Find(), "samples", "Titanic", "Titanic.Model");
        await AotPublisher.PublishAsync(Path.Combine(model, "Titanic.Model.csproj"), Path.Combine(model, "bin", "aot"), "titanic-model", ["-r", "linux-x64"]);

        _app.WriteConfig($$"""
            {
              "name": "{{_app.AppName}}",
              "containers": [
                {
                  "class_name": "FastApiContainer",
                  "image": {{JsonSerializer.Serialize(Path.Combine(model, "Dockerfile"))}},
                  "image_build_context": {{JsonSerializer.Serialize(model)}},
                  "instance_type": "basic",
                  "max_instances": 1
                }
              ],
              "triggers": { "crons": ["*/2 * * * *"] }
            }
            """);
        Host = await _app.StartHostAsync(
            berth => berth.AddContainer<FastApiContainer>(),
            app => app.MapContainer<FastApiContainer>("/api/{**path}", _ => FastApiContainer.Singleton));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        using var runtime = new DockerContainerRuntime(new DockerRuntimeOptions());
        await EndToEndFixture.RemoveAppImagesAsync(runtime, _app.AppName);
        _app.Delete();
    }
}

[Collection(EndToEndCollection.Name)]
public sealed class TitanicTests(TitanicHostFixture titanic) : IClassFixture<TitanicHostFixture>
{
    private HttpClient Client => titanic.Host.Client;

    private async Task<double> PredictAsync(string passengerClass, string sex, string age)
    {
        var response = await Client.PostAsJsonAsync("/api/predict", new Dictionary<string, string> { ["class"] = passengerClass, ["sex"] = sex, ["age"] = age });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("survival_probability").GetDouble();
    }

    [Theory]
    [InlineData("1st", "female", "adult")]
    [InlineData("3rd", "male", "adult")]
    [InlineData("2nd", "male", "child")]
    [InlineData("crew", "female", "adult")]
    public async Task PostPredict_ValidPassenger_ReturnsProbabilityBetweenZeroAndOne(string passengerClass, string sex, string age)
    {
        var probability = await PredictAsync(passengerClass, sex, age);

        Assert.InRange(probability, double.Epsilon, 1 - 1e-9);
    }

    [Theory]
    [InlineData("1st", "adult")]
    [InlineData("3rd", "adult")]
    [InlineData("crew", "adult")]
    [InlineData("3rd", "child")]
    public async Task PostPredict_SameClassAndAge_FemaleMoreLikelyThanMale(string passengerClass, string age)
    {
        var female = await PredictAsync(passengerClass, "female", age);
        var male = await PredictAsync(passengerClass, "male", age);

        Assert.True(female > male, $"female {female} should exceed male {male} for {passengerClass} {age}");
    }

    [Theory]
    [InlineData("""{"class":"4th","sex":"male","age":"adult"}""", "class")]
    [InlineData("""{"class":"1st","sex":"robot","age":"adult"}""", "sex")]
    [InlineData("""{"class":"1st","sex":"male"}""", "age")]
    public async Task PostPredict_BadField_Returns400NamingTheField(string json, string field)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var response = await Client.PostAsync("/api/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, body.RootElement.GetProperty("field").GetString());
        Assert.Contains($"'{field}'", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealth_ThroughGateway_AnsweredByTheOneModelContainer()
    {
        var health = await Client.GetFromJsonAsync<JsonElement>("/api/health");

        var objectId = titanic.Host.Services.GetRequiredService<ContainerNamespace<FastApiContainer>>().IdFromName(FastApiContainer.Singleton).ToString();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(objectId, health.GetProperty("object_id").GetString());
        var containers = await titanic.Host.ContainersAsync(objectId);
        var container = Assert.Single(containers);
        Assert.Equal("1", container.Labels[BerthLabels.Test]);
    }
}
