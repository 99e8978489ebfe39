namespace Berth.Docker.Tests;

/// <summary>Image tags as the engine lists them, turned into <see cref="Berth.Runtime.ImageInfo.Tags"/>: references only.</summary>
public sealed class ImageTagsTests
{
    [Fact]
    public void ImageTags_EnginePlaceholderOfAnUntaggedImage_LeftOut()
    {
        Assert.Empty(DockerContainerRuntime.ImageTags(["<none>:<none>"]));
    }

    [Fact]
    public void ImageTags_NoTagsAtAll_Empty()
    {
        Assert.Empty(DockerContainerRuntime.ImageTags(null));
        Assert.Empty(DockerContainerRuntime.ImageTags([]));
    }

    [Fact]
    public void ImageTags_RealTagsBesideThePlaceholder_KeptInOrder()
    {
        Assert.Equal(
            ["berth-titanic-fastapicontainer:a2c834f4437c", "127.0.0.1:5000/berth-titanic-fastapicontainer:a2c834f4437c"],
            DockerContainerRuntime.ImageTags(["berth-titanic-fastapicontainer:a2c834f4437c", "<none>:<none>", "127.0.0.1:5000/berth-titanic-fastapicontainer:a2c834f4437c"]));
    }
}
