using OnnxSbi.Runtime.Cli;

namespace OnnxSbi.Runtime.Cli.Tests;

public class CliArgsTests
{
    [Fact]
    public void UnknownOption_IsRefusedListingValidOnes()
    {
        var e = Assert.Throws<UsageException>(() => new CliArgs("sample", ["--modle", "x"], ["model", "out"], ["quick"]));
        Assert.Contains("--modle", e.Message);
        Assert.Contains("--model", e.Message);
        Assert.Contains("--quick", e.Message);
    }

    [Fact]
    public void RepeatedValues_AreAllKept_LastWinsForGet()
    {
        var a = new CliArgs("sample", ["--condition", "x=0,0", "--condition=y=1", "pos"], ["condition"], []);
        Assert.Equal(["x=0,0", "y=1"], a.GetAll("condition"));
        Assert.Equal("y=1", a.Get("condition"));
        Assert.Equal(["pos"], a.Positional);
    }

    [Fact]
    public void IntOutOfRange_NamesFlagAndRange()
    {
        var a = new CliArgs("sample", ["--threads", "-1"], ["threads"], []);
        var e = Assert.Throws<UsageException>(() => a.Int("threads", 0, 64));
        Assert.Contains("--threads", e.Message);
        Assert.Contains("[0, 64]", e.Message);
    }
}
