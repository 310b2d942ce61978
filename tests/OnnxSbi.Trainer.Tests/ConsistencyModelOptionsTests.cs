using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class ConsistencyModelOptionsTests
{
    [Fact]
    public void Default_Options_AreNewerBayesFlowDefaults()
    {
        var o = ConsistencyModelOptions.Default;
        Assert.Equal(MlpOptions.Default, o.Subnet);
        Assert.Equal((80.0, 1.0, 0.001, 10.0, 150.0, 7.0), (o.MaxTime, o.Sigma2, o.Eps, o.S0, o.S1, o.Rho));
        Assert.Equal((-1.1, 2.0, 10, 25_600L), (o.PMean, o.PStd, o.DefaultSteps, o.TotalSteps));
        o.Validate();
    }

    [Theory]
    [InlineData("MaxTime", 0.0005)]
    [InlineData("MaxTime", double.PositiveInfinity)]
    [InlineData("Eps", 0.0)]
    [InlineData("Eps", double.NaN)]
    [InlineData("Sigma2", -1.0)]
    [InlineData("S0", 0.0)]
    [InlineData("S0", 2.5)]
    [InlineData("S1", 5.0)]
    [InlineData("S1", 150.5)]
    [InlineData("Rho", 0.0)]
    [InlineData("PMean", double.NaN)]
    [InlineData("PStd", 0.0)]
    [InlineData("TotalSteps", 4.0)]
    [InlineData("DefaultSteps", 0.0)]
    public void Validate_ImpossibleValue_ThrowsNamingIt(string name, double value)
    {
        var o = ConsistencyModelOptions.Default;
        o = name switch
        {
            "MaxTime" => o with { MaxTime = value },
            "Eps" => o with { Eps = value },
            "Sigma2" => o with { Sigma2 = value },
            "S0" => o with { S0 = value },
            "S1" => o with { S1 = value },
            "Rho" => o with { Rho = value },
            "PMean" => o with { PMean = value },
            "PStd" => o with { PStd = value },
            "TotalSteps" => o with { TotalSteps = (long)value },
            "DefaultSteps" => o with { DefaultSteps = (int)value },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.StartsWith(name, e.Message);
        Assert.Throws<ArgumentException>(() => new ConsistencyModel(2, 2, o));
    }

    [Fact]
    public void DescribeSampler_SeedBudget_RecordsOptionsAndTrainedDiscretizations()
    {
        using var net = new ConsistencyModel(2, 2, new ConsistencyModelOptions(new MlpOptions([8]), MaxTime: 10, TotalSteps: 512 * 50));
        var manifest = new BundleManifest();
        net.DescribeSampler(manifest);
        var s = manifest.Consistency;
        Assert.NotNull(s);
        Assert.Equal(NetworkFamily.ConsistencyModel, net.Family);
        Assert.Equal((10.0, 0.001, 1.0, 10, 10.0, 150.0, 7.0, 25_600L), (s.MaxTime, s.Eps, s.Sigma2, s.DefaultSteps, s.S0, s.S1, s.Rho, s.TotalSteps));
        Assert.Equal([11, 21, 41, 81, 151], s.TrainedDiscretizations);
    }
}
