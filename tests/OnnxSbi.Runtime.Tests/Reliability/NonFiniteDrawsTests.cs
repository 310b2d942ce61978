using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Tests.Sampling;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>
/// A graph that produces NaN or infinity makes <see cref="PosteriorModel.Sample"/> throw
/// <see cref="NonFiniteDrawsException"/> with the counts; such draws are never returned.
/// </summary>
public sealed class NonFiniteDrawsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-nonfinite-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static ArrayBatch X(double a, double b) => new ArrayBatch(1).Set("x", [a, b], 2);

    // velocity = θ_t / (t − t): a division by an exact zero, ±∞ for every row at the first evaluation.
    private static ModelProto DivideByZeroVelocity()
    {
        var g = new GraphBuilder("velocity");
        string theta = g.Input("theta_t", null, 2), t = g.Input("t", null, 1);
        g.Input("conditions", null, 2);
        g.Node("Div", [theta, g.Node("Sub", [t, t])], "velocity");
        g.Output("velocity", null, 2);
        return g.Build(GaussianBundles.Info);
    }

    // θ = ln(z): NaN exactly where a component of the base noise z is negative.
    private static ModelProto LogOfNoiseInverse()
    {
        var g = new GraphBuilder("inverse");
        string z = g.Input("z", null, 2);
        g.Input("conditions", null, 2);
        g.Node("Log", [z], "theta");
        g.Output("theta", null, 2);
        return g.Build(GaussianBundles.Info);
    }

    [Fact]
    public void Sample_VelocityDividesByZero_ThrowsNonFiniteDrawsWithCounts()
    {
        string path = GaussianBundles.Write(dir, NetworkFamily.FlowMatching,
            replace: new Dictionary<string, ModelProto> { ["velocity"] = DivideByZeroVelocity() }, name: "div0");
        using var model = PosteriorModel.Load(path);

        var e = Assert.Throws<NonFiniteDrawsException>(() => model.Sample(X(0, 0), 300, new SamplingOptions { Method = IntegratorKind.Euler, Steps = 5 }));

        Assert.Equal(300, e.TotalCount);
        Assert.Equal(300, e.NonFiniteCount);
        Assert.Contains("300 non-finite draws out of 300", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Sample_LogOfNegativeNoise_CountsExactlyTheNaNRows()
    {
        string bad = GaussianBundles.Write(dir, NetworkFamily.CouplingFlow,
            replace: new Dictionary<string, ModelProto> { ["inverse"] = LogOfNoiseInverse() }, name: "log");
        string good = GaussianBundles.Write(dir, NetworkFamily.CouplingFlow);
        using var badModel = PosteriorModel.Load(bad);
        using var goodModel = PosteriorModel.Load(good);
        var options = new SamplingOptions { Seed = 7 };

        // The exact graph maps the same noise to θ = μ + S·z with μ = B at x = 0, so z < 0 exactly
        // where θ < B: the rows with a negative component are countable from the good model's draws.
        double[] theta = goodModel.Sample(X(0, 0), 1000, options)["theta"];
        long expected = 0;
        for (int r = 0; r < 1000; r++)
            if (theta[2 * r] < GaussianBundles.B || theta[2 * r + 1] < GaussianBundles.B) expected++;

        var e = Assert.Throws<NonFiniteDrawsException>(() => badModel.Sample(X(0, 0), 1000, options));

        Assert.Equal(1000, e.TotalCount);
        Assert.Equal(expected, e.NonFiniteCount);
        // P(some component negative) = 3/4 for two independent normals; 1000 draws land near 750.
        Assert.InRange(e.NonFiniteCount, 650, 850);
    }
}
