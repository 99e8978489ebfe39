using System.Text;

namespace Berth.Hosting.Tests.Dashboard;

/// <summary>The dashboard's built files as Berth.Hosting embeds them (the MSBuild target runs scripts/dashboard.sh).</summary>
public sealed class DashboardAssetsTests
{
    private static readonly DashboardAssets Assets = DashboardAssets.Load(typeof(BerthDashboardExtensions).Assembly);

    [Fact]
    public void Load_BerthHostingAssembly_HasThePageAndHashedScriptAndStyle()
    {
        Assert.False(Assets.IsEmpty);
        Assert.True(Assets.TryGet(DashboardAssets.IndexPath, out var index));
        Assert.Equal("text/html; charset=utf-8", index.ContentType);
        Assert.False(index.Immutable);

        var html = Encoding.UTF8.GetString(index.Content);
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"/_berth/dashboard/(assets/[^\"]+\\.js)\"");
        Assert.True(script.Success, html);
        Assert.True(Assets.TryGet(script.Groups[1].Value, out var js));
        Assert.True(js.Immutable);
        Assert.StartsWith("text/javascript", js.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ThePage_HasNoInlineScriptOrStyle()
    {
        Assert.True(Assets.TryGet(DashboardAssets.IndexPath, out var index));
        var html = Encoding.UTF8.GetString(index.Content);

        // The CSP allows scripts and styles from files only: every <script> has a src, and there is no <style> or style="".
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)[^>]*>", html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("../Berth.Hosting.csproj")]
    [InlineData("assets/../index.html")]
    [InlineData("/etc/passwd")]
    [InlineData("INDEX.HTML")]
    [InlineData("")]
    public void TryGet_PathThatIsNotABuiltFile_NotFound(string path)
    {
        Assert.False(Assets.TryGet(path, out _));
    }
}
