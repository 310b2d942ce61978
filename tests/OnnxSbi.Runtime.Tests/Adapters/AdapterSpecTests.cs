using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

public class AdapterSpecTests
{
    private static ArrayBatch Data() => AdapterFixtures.Data(rows: 64, seed: 3);

    private static Adapter Everything() => AdapterFixtures.Everything();

    [Fact]
    public void ToSpec_FromSpec_RoundTripIsExact()
    {
        var data = Data();
        var adapter = Everything().Fit(data);

        var spec = adapter.ToSpec();
        var restored = Adapter.FromSpec(spec);

        Assert.Equal(spec, restored.ToSpec());
        Assert.True(restored.IsFitted);
        var expected = adapter.Forward(data);
        var actual = restored.Forward(data);
        foreach (string name in expected.Names) Assert.Equal(expected.Get(name), actual.Get(name));
        var expectedBack = adapter.Inverse(expected);
        var actualBack = restored.Inverse(expected);
        foreach (string name in expectedBack.Names) Assert.Equal(expectedBack.Get(name), actualBack.Get(name));
    }

    [Fact]
    public void ToSpec_ThroughManifestJson_KeepsEveryBit()
    {
        var spec = Everything().Fit(Data()).ToSpec();

        string json = JsonFormatter.Default.Format(spec);
        var parsed = JsonParser.Default.Parse<AdapterSpec>(json);

        Assert.Equal(spec, parsed);
        Assert.Equal(spec.ToString(), Adapter.FromSpec(parsed).ToSpec().ToString());
    }

    [Fact]
    public void ToSpec_RecordsEveryStepInOrder()
    {
        var spec = Everything().Fit(Data()).ToSpec();

        Assert.Equal(
            [
                AdapterStep.KindOneofCase.ToArray, AdapterStep.KindOneofCase.ConvertDtype, AdapterStep.KindOneofCase.Drop,
                AdapterStep.KindOneofCase.Constrain, AdapterStep.KindOneofCase.Constrain, AdapterStep.KindOneofCase.Sqrt,
                AdapterStep.KindOneofCase.Log, AdapterStep.KindOneofCase.Standardize, AdapterStep.KindOneofCase.Standardize,
                AdapterStep.KindOneofCase.Concatenate, AdapterStep.KindOneofCase.Rename, AdapterStep.KindOneofCase.Keep,
            ],
            spec.Steps.Select(s => s.KindCase));
        Assert.Equal([2L, 1L], spec.Steps[9].Concatenate.Widths);
        Assert.False(spec.Steps[4].Constrain.HasUpper);
        Assert.Equal(0, spec.Steps[4].Constrain.Lower);
        Assert.Equal(["sigma", "x"], spec.Steps[7].Standardize.Moments.Keys.Order());
    }

    [Fact]
    public void FromSpec_Unfitted_IsNotFitted()
    {
        var restored = Adapter.FromSpec(Everything().ToSpec());

        Assert.False(restored.IsFitted);
        Assert.Equal(12, restored.Count);
    }

    [Fact]
    public void FromSpec_EmptyStep_ThrowsNamingTheStep()
    {
        var spec = new AdapterSpec { Steps = { new AdapterStep { ToArray = new ToArray() }, new AdapterStep() } };

        var ex = Assert.Throws<OnnxSbiException>(() => Adapter.FromSpec(spec));

        Assert.Contains("step 1", ex.Message);
    }

    [Fact]
    public void FromSpec_InvertedBounds_ThrowsNamingTheStep()
    {
        var spec = new AdapterSpec
        {
            Steps = { new AdapterStep { Constrain = new Constrain { Keys = { "theta" }, Lower = 1, Upper = -1 } } },
        };

        var ex = Assert.Throws<OnnxSbiException>(() => Adapter.FromSpec(spec));

        Assert.Contains("step 0 (Constrain)", ex.Message);
        Assert.Contains("lower bound (1)", ex.Message);
    }

    [Fact]
    public void FromSpec_WidthsThatDoNotMatchKeys_AreRejected()
    {
        var spec = new AdapterSpec
        {
            Steps = { new AdapterStep { Concatenate = new Concatenate { Keys = { "a", "b" }, Into = "c", Widths = { 2 } } } },
        };

        var ex = Assert.Throws<OnnxSbiException>(() => Adapter.FromSpec(spec));

        Assert.Contains("2 keys but 1 widths", ex.Message);
    }
}
