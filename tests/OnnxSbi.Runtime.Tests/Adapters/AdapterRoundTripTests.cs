using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

public class AdapterRoundTripTests
{
    // Variables in every transform's domain, away from the bounds so that the test measures the
    // implementation, not the conditioning of logit near 0 and 1.
    private static ArrayBatch UserData(int rows, int seed)
    {
        var rng = new Random(seed);
        double[] Draw(int width, Func<double> f) => [.. Enumerable.Range(0, rows * width).Select(_ => f())];
        return new ArrayBatch(rows)
            .Set("theta", Draw(2, () => rng.NextDouble() * 1.8 - 0.9), 2)   // in (−1, 1)
            .Set("sigma", Draw(1, () => 0.01 + 5 * rng.NextDouble()))         // positive scalar
            .Set("rate", Draw(1, () => 1e-9 + 3 * rng.NextDouble()), 1)       // > −1, tiny values test log1p
            .Set("var", Draw(1, () => 4 * rng.NextDouble()), 1)                // ≥ 0
            .Set("lo", Draw(1, () => 2 + 10 * rng.NextDouble()), 1)            // > 2
            .Set("hi", Draw(1, () => 5 - 10 * rng.NextDouble()), 1)            // < 5
            .Set("x", Draw(3, () => 10 * rng.NextDouble() - 3), 3);
    }

    private static Adapter FullPipeline() => Adapter.Create()
        .ToArray()
        .Constrain("theta", lower: -1, upper: 1)
        .Log("sigma")
        .Log("rate", p1: true)
        .Sqrt("var")
        .Constrain("lo", lower: 2)
        .Constrain("hi", upper: 5)
        .Standardize(exclude: ["theta"])
        .Concatenate(["theta", "sigma", "rate", "var", "lo", "hi"], into: "inference_variables")
        .Rename("x", "inference_conditions");

    [Fact]
    public void Inverse_OfForward_RecoversEveryVariableToDoublePrecision()
    {
        var data = UserData(500, seed: 1);
        var adapter = FullPipeline().Fit(data);

        var network = adapter.Forward(data);
        var back = adapter.Inverse(network);

        Assert.Equal(["inference_conditions", "inference_variables"], network.Names.Order());
        Assert.Equal([7], network.SampleShape("inference_variables"));
        foreach (string name in data.Names)
        {
            // Every step is evaluated in double precision with accurate log1p/expm1/softplus; on the
            // domains above the worst amplification (logit at |p − 0.5| ≤ 0.45) is about 20, so 1e-12
            // relative leaves three digits of margin over 1e-16 rounding.
            double[] expected = data.Get(name), actual = back.Get(name);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])),
                    $"{name}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Inverse_OfForwardWithFloat32_RecoversWithinFloatPrecision()
    {
        var data = UserData(500, seed: 2);
        var adapter = Adapter.Create().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Log("sigma").Constrain("theta", -1, 1).Standardize(exclude: ["theta"])
            .Rename("theta", "inference_variables").Rename("x", "inference_conditions").Fit(data);

        var network = adapter.Forward(data);
        var back = adapter.Inverse(network);

        foreach (var (user, net) in new[] { ("theta", "inference_variables"), ("sigma", "sigma"), ("x", "inference_conditions") })
        {
            // The input is rounded to float32 (relative 6e-8) before the transforms; the inverse maps
            // back in double, amplifying by at most ~20 (logit) — 1e-5 relative is a safe bound that
            // still fails for any real error.
            double[] expected = data.Get(user), actual = back.Get(user);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{user}[{i}]");
            Assert.True(network.Contains(net));
        }
    }

    [Fact]
    public void ConvertDtype_Float32_RoundsEveryValueToTheNearestFloat()
    {
        var data = UserData(100, seed: 5);

        var rounded = Adapter.Create().ConvertDtype(Dtype.Float64, Dtype.Float32).Forward(data);

        foreach (string name in data.Names)
            Assert.Equal(data.Get(name).Select(v => (double)(float)v), rounded.Get(name));
    }

    [Fact]
    public void Forward_ConditionsOnly_MatchesTheConditionsOfTrainingData()
    {
        var data = UserData(50, seed: 3);
        var adapter = FullPipeline().Fit(data);
        var conditions = new ArrayBatch(data.Rows).Set("x", data.Get("x"), 3);

        var full = adapter.Forward(data);
        var onlyConditions = adapter.Forward(conditions);

        Assert.Equal(["inference_conditions"], onlyConditions.Names);
        Assert.Equal(full.Get("inference_conditions"), onlyConditions.Get("inference_conditions"));
    }

    [Fact]
    public void Forward_DoesNotChangeItsArgument()
    {
        var data = UserData(20, seed: 4);
        var before = data.Clone();

        FullPipeline().Fit(data).Forward(data);

        foreach (string name in before.Names) Assert.Equal(before.Get(name), data.Get(name));
    }

    [Fact]
    public void Inverse_Concatenate_SplitsAtRecordedWidthsWithFlatShapes()
    {
        var data = new ArrayBatch(2)
            .Set("a", [1, 2, 3, 4, 5, 6, 7, 8], 2, 2)
            .Set("b", [9, 10]);
        var adapter = Adapter.Create().Concatenate(["a", "b"], "joined");

        var joined = adapter.Forward(data);
        var split = adapter.Inverse(joined);

        Assert.Equal([1, 2, 3, 4, 9, 5, 6, 7, 8, 10], joined.Get("joined"));
        Assert.Equal([4], split.SampleShape("a"));
        Assert.Equal([1], split.SampleShape("b"));
        Assert.Equal(data.Get("a"), split.Get("a"));
        Assert.Equal(data.Get("b"), split.Get("b"));
    }

    [Fact]
    public void Inverse_DropAndKeep_AreSkipped()
    {
        var data = new ArrayBatch(1).Set("a", [1.0]).Set("b", [2.0]).Set("c", [3.0]);
        var adapter = Adapter.Create().Drop("c").Keep("a").Rename("a", "z");

        var forward = adapter.Forward(data);
        var back = adapter.Inverse(forward);

        Assert.Equal(["z"], forward.Names);
        Assert.Equal(["a"], back.Names);
    }

    [Fact]
    public void Log1p_TinyValues_RoundTripWithoutLosingDigits()
    {
        // log(1 + x) evaluated naively returns 0 for x = 1e-20 and the inverse then returns 0; an
        // accurate log1p/expm1 pair returns x to rounding (relative 1e-15).
        double[] tiny = [1e-20, 1e-12, 3e-9];
        var data = new ArrayBatch(3).Set("rate", (double[])tiny.Clone());
        var adapter = Adapter.Create().Log("rate", p1: true);

        var back = adapter.Inverse(adapter.Forward(data)).Get("rate");

        for (int i = 0; i < tiny.Length; i++) Assert.Equal(tiny[i], back[i], tiny[i] * 1e-15);
    }
}
