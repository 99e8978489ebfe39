using System.Text.Json;
using System.Text.Json.Serialization;
using Titanic.Model;

// The demo's container (the seed's FastAPI app): trains at start, answers predictions on $PORT.
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls($"http://0.0.0.0:{Environment.GetEnvironmentVariable("PORT") ?? "8080"}");
var json = new ModelJsonContext(new JsonSerializerOptions
{
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
});
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var model = SurvivalModel.Train(Path.Combine(AppContext.BaseDirectory, "titanic.csv"));
var startedAt = DateTimeOffset.UtcNow;
var app = builder.Build();

app.MapGet("/api/health", () => Results.Json(new Health("ok", Environment.GetEnvironmentVariable("BERTH_OBJECT_ID"), startedAt), json.Health));

app.MapGet("/api/model", () => Results.Json(new ModelInfo(
    "logistic regression (IRLS)", "British Board of Trade counts of the 2,201 people aboard the Titanic",
    model.People, model.Iterations, Math.Round(model.TrainingAccuracy, 4), model.Coefficients,
    SurvivalModel.Classes, SurvivalModel.Sexes, SurvivalModel.Ages), json.ModelInfo));

app.MapPost("/api/predict", async (HttpRequest request) =>
{
    JsonElement body;
    try
    {
        body = await JsonSerializer.DeserializeAsync(request.Body, json.JsonElement);
    }
    catch (JsonException ex)
    {
        return Results.Json(new PredictionError("invalid_json", null, $"The body is not valid JSON: {ex.Message}"), json.PredictionError, statusCode: 400);
    }

    if (body.ValueKind != JsonValueKind.Object)
    {
        return Results.Json(new PredictionError("invalid_body", null, "The body must be a JSON object like {\"class\":\"3rd\",\"sex\":\"female\",\"age\":\"adult\"}."), json.PredictionError, statusCode: 400);
    }

    string? Field(string name, string[] allowed, out PredictionError? error)
    {
        error = null;
        if (!body.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            error = new PredictionError("invalid_field", name, $"'{name}' is required and must be one of: {string.Join(", ", allowed)}.");
            return null;
        }

        var text = value.GetString()!.Trim().ToLowerInvariant();
        if (!allowed.Contains(text))
        {
            error = new PredictionError("invalid_field", name, $"'{name}' is '{value.GetString()}'; allowed: {string.Join(", ", allowed)}.");
            return null;
        }

        return text;
    }

    var passengerClass = Field("class", SurvivalModel.Classes, out var classError);
    var sex = Field("sex", SurvivalModel.Sexes, out var sexError);
    var age = Field("age", SurvivalModel.Ages, out var ageError);
    if ((classError ?? sexError ?? ageError) is { } error)
    {
        return Results.Json(error, json.PredictionError, statusCode: 400);
    }

    var passenger = new Passenger(passengerClass!, sex!, age!);
    var probability = model.Predict(passenger);
    var (survived, total) = model.Observed(passenger);
    return Results.Json(new Prediction(passenger.Class, passenger.Sex, passenger.Age, Math.Round(probability, 4), probability >= 0.5,
        survived, total), json.Prediction);
});

app.Run();

internal sealed record Health(string Status, string? ObjectId, DateTimeOffset StartedAt);

internal sealed record ModelInfo(string Model, string Data, int People, int Iterations, double TrainingAccuracy,
    IReadOnlyDictionary<string, double> Coefficients, string[] Classes, string[] Sexes, string[] Ages);

internal sealed record Prediction(string Class, string Sex, string Age, double SurvivalProbability, bool LikelySurvived,
    int ObservedSurvivors, int ObservedPeople);

internal sealed record PredictionError(string Error, string? Field, string Message);

[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(Prediction))]
[JsonSerializable(typeof(PredictionError))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;
