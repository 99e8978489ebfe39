namespace Berth.Abstractions.Tests;

public class InstanceTypeTests
{
    [Theory]
    [InlineData("lite", 1.0 / 16, 256, 2_000)]
    [InlineData("dev", 1.0 / 16, 256, 2_000)]
    [InlineData("basic", 0.25, 1024, 4_000)]
    [InlineData("standard-1", 0.5, 4096, 8_000)]
    [InlineData("standard", 0.5, 4096, 8_000)]
    [InlineData("standard-2", 1, 6144, 12_000)]
    [InlineData("standard-3", 2, 8192, 16_000)]
    [InlineData("standard-4", 4, 12288, 20_000)]
    [InlineData("  Standard-4 ", 4, 12288, 20_000)]
    public void TryParse_KnownName_ReturnsItsLimits(string name, double vcpu, int memoryMib, int diskMb)
    {
        Assert.True(InstanceType.TryParse(name, out var type));
        Assert.Equal(vcpu, type.Vcpu);
        Assert.Equal(memoryMib, type.MemoryMib);
        Assert.Equal(diskMb, type.DiskMb);
    }

    [Fact]
    public void TryParse_Alias_ReturnsTheSameInstance()
    {
        Assert.True(InstanceType.TryParse("dev", out var dev));
        Assert.Same(InstanceType.Lite, dev);
        Assert.True(InstanceType.TryParse("standard", out var standard));
        Assert.Same(InstanceType.Standard1, standard);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("huge")]
    public void TryParse_UnknownName_ReturnsFalse(string? name) =>
        Assert.False(InstanceType.TryParse(name, out _));

    [Fact]
    public void Parse_UnknownName_ThrowsNamingValueAndAllowedNames()
    {
        var error = Assert.Throws<ArgumentException>(() => InstanceType.Parse("huge"));
        Assert.Contains("'huge'", error.Message, StringComparison.Ordinal);
        Assert.Contains("standard-4", error.Message, StringComparison.Ordinal);
        Assert.Contains("custom", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lite", 62_500_000L, 268_435_456L)]
    [InlineData("basic", 250_000_000L, 1_073_741_824L)]
    [InlineData("standard-1", 500_000_000L, 4_294_967_296L)]
    [InlineData("standard-4", 4_000_000_000L, 12_884_901_888L)]
    public void NamedType_DockerUnits_AreNanoCpusAndBytes(string name, long nanoCpus, long memoryBytes)
    {
        var type = InstanceType.Parse(name);
        Assert.Equal(nanoCpus, type.NanoCpus);
        Assert.Equal(memoryBytes, type.MemoryBytes);
        Assert.Equal(type.DiskMb * 1_000_000L, type.DiskBytes);
    }

    [Fact]
    public void Custom_WithinBounds_KeepsValues()
    {
        var type = InstanceType.Custom(1.5, 2048, 10_000);
        Assert.Equal("custom", type.Name);
        Assert.Equal(1_500_000_000L, type.NanoCpus);
        Assert.Equal(2048L * 1024 * 1024, type.MemoryBytes);
        Assert.Equal(10_000, type.DiskMb);
    }

    [Theory]
    [InlineData(0.5, 1024, 1000, "vcpu")]
    [InlineData(4.5, 1024, 1000, "vcpu")]
    [InlineData(double.NaN, 1024, 1000, "vcpu")]
    [InlineData(2, 64, 1000, "memoryMib")]
    [InlineData(2, 12 * 1024 + 1, 1000, "memoryMib")]
    [InlineData(2, 1024, 0, "diskMb")]
    [InlineData(2, 1024, 20_001, "diskMb")]
    public void Custom_OutOfBounds_ThrowsNamingTheField(double vcpu, int memoryMib, int diskMb, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => InstanceType.Custom(vcpu, memoryMib, diskMb));
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void Custom_AtBounds_IsAllowed()
    {
        Assert.Equal(4, InstanceType.Custom(InstanceType.CustomMaxVcpu, InstanceType.CustomMaxMemoryMib, InstanceType.CustomMaxDiskMb).Vcpu);
        Assert.Equal(1, InstanceType.Custom(InstanceType.CustomMinVcpu, InstanceType.CustomMinMemoryMib, 1).Vcpu);
    }

    [Fact]
    public void KnownNames_AllParse()
    {
        Assert.All(InstanceType.KnownNames, name => Assert.True(InstanceType.TryParse(name, out _)));
    }

    [Fact]
    public void ToString_Named_ShowsLimits() =>
        Assert.Equal("basic (0.25 vCPU, 1024 MiB, 4000 MB)", InstanceType.Basic.ToString());
}
