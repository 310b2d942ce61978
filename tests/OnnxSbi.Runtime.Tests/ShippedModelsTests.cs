using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks;

namespace OnnxSbi.Runtime.Tests;

/// <summary>The trained bundles in models/two_moons, loaded and scored through the runtime alone (no training).</summary>
public class ShippedModelsTests
{
    /// <summary>C2ST at x = (0, 0) targets of the flow matching, consistency model and coupling flow issues.</summary>
    internal static readonly IReadOnlyDictionary<string, double> C2stTargets = new Dictionary<string, double>
    {
        ["flow_matching"] = 0.55,
        ["consistency_model"] = 0.58,
        ["affine_coupling_flow"] = 0.62,
        ["spline_coupling_flow"] = 0.57,
    };

    /// <summary>Every target, in float32 and in int8 (<see cref="NetworkPrecision.Int8"/>).</summary>
    public static TheoryData<string, double, NetworkPrecision> Targets()
    {
        var data = new TheoryData<string, double, NetworkPrecision>();
        foreach (var precision in new[] { NetworkPrecision.Float32, NetworkPrecision.Int8 })
            foreach (var (name, target) in C2stTargets) data.Add(name, target, precision);
        return data;
    }

    /// <summary>
    /// In int8 the same targets hold: quantization error (about 2% of the velocity for flow matching) must not
    /// cost the posterior its accuracy. With 10,000 draws (<c>onnxsbi-bench c2st --precision int8</c>) every int8
    /// model scored within 0.005 of its float32 score.
    /// </summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void ShippedBundle_SampledAtOrigin_MeetsItsC2stTarget(string name, double target, NetworkPrecision precision)
    {
        using var model = PosteriorModel.Load(BundlePath(name), new RuntimeOptions { Precision = precision });
        Assert.Equal(precision, model.Precision);
        double c2st = C2stAtOrigin(model);
        Assert.True(c2st <= target, $"{name} ({precision}): C2ST {c2st:F3} > target {target}");
    }

    /// <summary>
    /// 5,000 draws at x = (0, 0) (seed 2024) against 5,000 exact draws. The C2ST of identical distributions
    /// has a standard deviation of about 0.005 here, so a model that truly meets its target passes with high
    /// probability, and a regression (a wrong adapter inverse, sampler or graph) lands far above every target.
    /// </summary>
    internal static double C2stAtOrigin(PosteriorModel model)
    {
        const int draws = 5000;
        var theta = model.Sample(new ArrayBatch(1).Set("x", [0.0, 0.0], 2), draws, new SamplingOptions { Seed = 2024 })["theta"];
        return C2st.Score(TwoMoonsPosterior.SampleExact(0, 0, draws, seed: 4048), theta, 2);
    }

    /// <summary>The shipped bundle models/two_moons/NAME.onnxsbi of this checkout.</summary>
    internal static string BundlePath(string name) => Repository.ShippedBundle(name);
}
