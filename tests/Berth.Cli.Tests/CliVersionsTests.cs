using System.Formats.Tar;
using System.Net;
using System.Text;

namespace Berth.Cli.Tests;

/// <summary><c>berth deploy</c>, <c>versions</c>, <c>rollouts</c> and <c>rollback</c> against a fake admin API.</summary>
public sealed class CliVersionsTests : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly TempDirectory _dir = new();
    private readonly RoutedAdmin _admin = new();

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        _dir.Dispose();
        _admin.Dispose();
    }

    private Task<int> RunAsync(params string[] args) =>
        BerthCli.RunAsync(args, _out, _err, null, null,
            new CliEnvironment(name => name == "BERTH_ADMIN_TOKEN" ? "t0ken" : null, _dir.Path, TimeProvider.System, null, _admin), CancellationToken.None);

    private void OneClassProject()
    {
        _dir.Write("berth.jsonc", """
            // the project
            { "name": "demo", "containers": [ { "class_name": "Api", "image": "./api/Dockerfile", }, ] }
            """);
        _dir.Write("api/Dockerfile", "FROM scratch\nCOPY app.txt /app.txt\n");
        _dir.Write("api/app.txt", "the app");
        _dir.Write("api/secret.txt", "never uploaded");
        _dir.Write("api/logs/today.log", "never uploaded either");
        _dir.Write("api/.dockerignore", "# comment\nsecret.txt\nlogs\n");
    }

    private const string Version2 = """{ "className": "Api", "number": 2, "image": "127.0.0.1:5000/berth-demo-api@sha256:abcd", "digest": "sha256:abcd", "configHash": "h", "createdAt": "2026-11-30T12:00:00Z", "trigger": "deploy" }""";

    private static string Rollout(string state, int replaced) =>
        $$"""{ "className": "Api", "fromVersion": 1, "toVersion": 2, "state": "{{state}}", "steps": [10, 100], "stepIndex": {{(state == "running" ? 0 : 2)}}, "replaced": {{replaced}}, "total": 4, "startedAt": "2026-11-30T12:00:00Z", "updatedAt": "2026-11-30T12:00:00Z", "error": null }""";

    [Fact]
    public async Task Deploy_FromTheProjectDirectory_StreamsTheContextWithoutIgnoredFilesAndFollowsTheRollout()
    {
        OneClassProject();
        _admin.On("POST", "classes/Api/deploy", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": {{Rollout("running", 0)}} }""");
        _admin.On("GET", "classes/Api/rollout", HttpStatusCode.OK, Rollout("completed", 4));

        var exit = await RunAsync("deploy");

        Assert.True(exit == ExitCodes.Success, _err.ToString());
        var deploy = _admin.Requests[0];
        Assert.EndsWith("/_berth/admin/classes/Api/deploy?percent=100&dockerfile=Dockerfile", deploy.Uri, StringComparison.Ordinal);
        Assert.Equal("application/x-tar", deploy.ContentType);
        var names = new List<string>();
        using (var reader = new TarReader(new MemoryStream(deploy.Body)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
            }
        }

        Assert.Equal([".dockerignore", "Dockerfile", "app.txt"], names.Order(StringComparer.Ordinal));
        var output = _out.ToString();
        Assert.Contains("Version 2 of Api: 127.0.0.1:5000/berth-demo-api@sha256:abcd", output, StringComparison.Ordinal);
        Assert.Contains("0/4 replaced", output, StringComparison.Ordinal);
        Assert.Contains("completed", output, StringComparison.Ordinal);
        Assert.Contains("4/4 replaced", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_ImageWithPercentAndNoWait_SendsTheReferenceAndDoesNotPoll()
    {
        _admin.On("POST", "classes/Api/deploy", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": {{Rollout("running", 0)}} }""");

        var exit = await RunAsync("deploy", "--class", "Api", "--image", "my-api:2", "--percent", "10", "--no-wait");

        Assert.Equal(ExitCodes.Success, exit);
        var request = Assert.Single(_admin.Requests);
        Assert.EndsWith("classes/Api/deploy?percent=10", request.Uri, StringComparison.Ordinal);
        Assert.Equal("""{"image":"my-api:2"}""", Encoding.UTF8.GetString(request.Body));
    }

    [Fact]
    public async Task Deploy_BuildFails_ExitsOneWithTheStepOutput()
    {
        OneClassProject();
        _admin.On("POST", "classes/Api/deploy", HttpStatusCode.UnprocessableEntity,
            """{ "title": "Build failed", "status": 422, "detail": "Building image failed at 'Step 2/2 : RUN make': exit 2\nOutput of the failing step:\nmake: *** no rule" }""",
            "application/problem+json");

        var exit = await RunAsync("deploy");

        Assert.Equal(ExitCodes.DeployFailed, exit);
        Assert.Contains("make: *** no rule", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsList_OneClassInTheProject_MarksCurrentAndCandidate()
    {
        OneClassProject();
        _admin.On("GET", "classes/Api/versions", HttpStatusCode.OK, $$"""
            { "class": "Api", "current": 1, "candidate": 2, "candidatePercent": 10, "versions": [ {{Version2}},
              { "className": "Api", "number": 1, "image": "img:1", "digest": null, "configHash": "h", "createdAt": "2026-11-29T12:00:00Z", "trigger": "startup" } ] }
            """);

        Assert.Equal(ExitCodes.Success, await RunAsync("versions", "list"));

        var lines = _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("+ 2 ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("* 1 ", lines[2], StringComparison.Ordinal);
        Assert.Contains("10% of object IDs start on version 2", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsList_NoProjectAndNoClass_ExitsUsageWithoutCallingTheHost()
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("versions", "list"));

        Assert.Empty(_admin.Requests);
        Assert.Contains("--class is required", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_WithVersion_PostsIt()
    {
        _admin.On("POST", "classes/Api/rollback", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": null }""");

        Assert.Equal(ExitCodes.Success, await RunAsync("rollback", "2", "--class", "Api"));

        Assert.Equal("""{"version":2}""", Encoding.UTF8.GetString(Assert.Single(_admin.Requests).Body));
        Assert.Contains("back to version 2", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_RolloutRunning_FollowsItUntilItEnds()
    {
        _admin.On("POST", "classes/Api/rollback", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": {{Rollout("running", 1)}} }""");
        _admin.On("GET", "classes/Api/rollout", HttpStatusCode.OK, Rollout("completed", 4));

        var exit = await RunAsync("rollback", "--class", "Api");

        Assert.True(exit == ExitCodes.Success, _err.ToString());
        Assert.Equal(["POST", "GET"], _admin.Requests.Select(r => r.Method));
        Assert.Contains("1/4 replaced", _out.ToString(), StringComparison.Ordinal);
        Assert.Contains("4/4 replaced", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_RolloutFails_ExitsOne()
    {
        _admin.On("POST", "classes/Api/rollback", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": {{Rollout("running", 0)}} }""");
        _admin.On("GET", "classes/Api/rollout", HttpStatusCode.OK, Rollout("failed", 1));

        Assert.Equal(ExitCodes.DeployFailed, await RunAsync("rollback", "--class", "Api"));
        Assert.Contains("failed", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_NoWait_DoesNotPoll()
    {
        _admin.On("POST", "classes/Api/rollback", HttpStatusCode.Accepted, $$"""{ "version": {{Version2}}, "rollout": {{Rollout("running", 0)}} }""");

        Assert.Equal(ExitCodes.Success, await RunAsync("rollback", "--class", "Api", "--no-wait"));
        Assert.Single(_admin.Requests);
        Assert.Contains("running", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsShow_UnknownVersion_ExitsNotFound()
    {
        _admin.On("GET", "classes/Api/versions/9", HttpStatusCode.NotFound, """{ "title": "Not found", "status": 404, "detail": "version: class 'Api' has no version 9" }""", "application/problem+json");

        Assert.Equal(ExitCodes.NotFound, await RunAsync("versions", "show", "9", "--class", "Api"));

        Assert.Contains("has no version 9", _err.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Answers by method and path (without the query); records each request with its body bytes.</summary>
    private sealed class RoutedAdmin : HttpMessageHandler
    {
        private readonly Dictionary<(string, string), (HttpStatusCode Status, string Body, string Type)> _routes = [];

        public List<(string Method, string Uri, string? ContentType, byte[] Body)> Requests { get; } = [];

        public void On(string method, string path, HttpStatusCode status, string body, string type = "application/json") =>
            _routes[(method, "/_berth/admin/" + path)] = (status, body, type);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            Requests.Add((request.Method.Method, request.RequestUri!.AbsoluteUri, request.Content?.Headers.ContentType?.MediaType, body));
            if (!_routes.TryGetValue((request.Method.Method, request.RequestUri.AbsolutePath), out var route))
            {
                return new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("") };
            }

            var content = new StringContent(route.Body, Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(route.Type);
            return new HttpResponseMessage(route.Status) { Content = content };
        }
    }
}
