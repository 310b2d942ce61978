using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

public class AdapterJsonTests
{
    private const string Source = "my_adapter.json";

    private static ArrayBatch Data() => AdapterFixtures.Data(rows: 50, seed: 5);

    private static Adapter Everything() => AdapterFixtures.Everything();

    /// <summary>The same chain as <see cref="Everything"/>, written by hand in snake_case protobuf JSON, unfitted.</summary>
    private const string EverythingJson = """
        {"steps": [
          {"to_array": {}},
          {"convert_dtype": {"from": "float64", "to": "float32"}},
          {"drop": {"keys": ["unused"]}},
          {"constrain": {"keys": ["theta"], "lower": -1, "upper": 1}},
          {"constrain": {"keys": ["sigma"], "lower": 0}},
          {"sqrt": {"keys": ["x"]}},
          {"log": {"keys": ["x"], "p1": true}},
          {"standardize": {"exclude": ["theta"]}},
          {"standardize": {"include": ["x"], "moments": {"x": {"mean": [0.5], "std": [3]}}}},
          {"concatenate": {"keys": ["theta", "sigma"], "into": "inference_variables"}},
          {"rename": {"from": "x", "to": "inference_conditions"}},
          {"keep": {"keys": ["inference_variables", "inference_conditions"]}}
        ]}
        """;

    [Fact]
    public void ToJson_FromJson_FittedRoundTripIsExact()
    {
        var adapter = Everything().Fit(Data());

        var restored = Adapter.FromJson(adapter.ToJson(), Source);

        Assert.True(restored.IsFitted);
        Assert.Equal(adapter.ToSpec(), restored.ToSpec());
        Assert.Equal(adapter.ToJson(), restored.ToJson());
    }

    [Fact]
    public void ToJson_FromJson_UnfittedRoundTripStaysUnfitted()
    {
        var adapter = Everything();

        var restored = Adapter.FromJson(adapter.ToJson(), Source);

        Assert.False(restored.IsFitted);
        Assert.Equal(adapter.ToSpec(), restored.ToSpec());
    }

    [Fact]
    public void FromJson_UnfittedFileThenFit_EqualsTheChainBuiltInCSharp()
    {
        var data = Data();
        var fromFile = Adapter.FromJson(EverythingJson, Source);
        Assert.False(fromFile.IsFitted);

        fromFile.Fit(data);
        var built = Everything().Fit(data);

        // Same code path on the same data: the fitted statistics must agree bit for bit.
        Assert.Equal(built.ToSpec(), fromFile.ToSpec());
        var expected = built.Forward(data);
        var actual = fromFile.Forward(data);
        foreach (string name in expected.Names) Assert.Equal(expected.Get(name), actual.Get(name));
    }

    [Fact]
    public void FromJson_CamelCaseNamesAsInTheManifest_AreAccepted()
    {
        const string json = """{"steps": [{"toArray": {}}, {"convertDtype": {"from": "float64", "to": "float32"}}, {"rename": {"from": "theta", "to": "inference_variables"}}]}""";

        var adapter = Adapter.FromJson(json, Source);

        Assert.Equal(
            [AdapterStep.KindOneofCase.ToArray, AdapterStep.KindOneofCase.ConvertDtype, AdapterStep.KindOneofCase.Rename],
            adapter.ToSpec().Steps.Select(s => s.KindCase));
    }

    [Fact]
    public void FromJson_FittedFile_KeepsItsMomentsThroughFit()
    {
        const string json = """
            {"steps": [
              {"standardize": {"include": ["x"], "moments": {"x": {"mean": [1, 2, 3], "std": [4, 5, 6]}}}},
              {"rename": {"from": "x", "to": "inference_conditions"}}
            ]}
            """;
        var adapter = Adapter.FromJson(json, Source);
        Assert.True(adapter.IsFitted);

        adapter.Fit(Data());

        var moments = adapter.ToSpec().Steps[0].Standardize.Moments["x"];
        Assert.Equal([1.0, 2, 3], moments.Mean);
        Assert.Equal([4.0, 5, 6], moments.Std);
    }

    [Theory]
    [InlineData("{\"steps\": [", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object {\"steps\": [...]}; found a JSON array")]
    [InlineData("{\"step\": []}", "unknown field 'step' at the top level")]
    [InlineData("{\"steps\": {}}", "\"steps\" must be an array of transforms; found a JSON object")]
    [InlineData("{\"steps\": []}", "the adapter has no steps")]
    [InlineData("{\"steps\": [{\"exp\": {\"keys\": [\"x\"]}}]}", "step 0 has an unknown transform 'exp'. Valid transforms: to_array, convert_dtype, standardize, rename, concatenate, drop, keep, log, sqrt, constrain.")]
    [InlineData("{\"steps\": [{\"log\": {\"keys\": [\"x\"]}, \"sqrt\": {\"keys\": [\"x\"]}}]}", "step 0 must hold exactly one transform; found 'log', 'sqrt'.")]
    [InlineData("{\"steps\": [{}]}", "step 0 must hold exactly one transform; found none.")]
    [InlineData("{\"steps\": [\"log\"]}", "step 0 must be an object holding one transform")]
    [InlineData("{\"steps\": [{\"to_array\": {}}, {\"log\": {\"key\": [\"x\"]}}]}", "step 1 (log) is invalid: Unknown field: key")]
    [InlineData("{\"steps\": [{\"constrain\": {\"keys\": [\"x\"], \"lower\": \"zero\"}}]}", "step 0 (constrain) is invalid:")]
    [InlineData("{\"steps\": [{\"constrain\": {\"keys\": [\"x\"], \"lower\": 2, \"upper\": 1}}]}", "step 0 (constrain) is invalid: The lower bound (2) must be below the upper bound (1).")]
    [InlineData("{\"steps\": [{\"constrain\": {\"keys\": [\"x\"]}}]}", "step 0 (constrain) is invalid: Constrain needs a lower bound, an upper bound or both.")]
    [InlineData("{\"steps\": [{\"convert_dtype\": {\"from\": \"float64\", \"to\": \"float16\"}}]}", "step 0 (convert_dtype) is invalid: Unsupported dtype 'float16'")]
    [InlineData("{\"steps\": [{\"log\": {\"keys\": []}}]}", "step 0 (log) is invalid: At least one variable name is required.")]
    [InlineData("{\"steps\": [{\"standardize\": {\"moments\": {\"x\": {\"mean\": [0], \"std\": [0]}}}}]}", "step 0 (standardize) is invalid: Standardization std of 'x' must be positive and finite; got 0.")]
    [InlineData("{\"steps\": [{\"rename\": \"theta\"}]}", "step 0 (rename) must be an object of its fields")]
    public void FromJson_BadInput_ThrowsNamingTheFileAndTheProblem(string json, string expected)
    {
        var ex = Assert.Throws<OnnxSbiException>(() => Adapter.FromJson(json, Source));

        Assert.StartsWith($"Adapter file '{Source}': ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void FromSpec_StandardizeWithoutMoments_IsUnfittedUntilFit()
    {
        var spec = new AdapterSpec();
        spec.Steps.Add(new AdapterStep { Standardize = new Standardize { Include = { "x" } } });

        var adapter = Adapter.FromSpec(spec);

        Assert.False(adapter.IsFitted);
        Assert.True(adapter.Fit(Data()).IsFitted);
    }

    [Fact]
    public void Describe_FittedAdapter_ListsEachStepAndTheStatisticsToFourDigits()
    {
        var data = new ArrayBatch(4)
            .Set("theta", [1, 2, 3, 4])
            .Set("x", [0, 10, 1, 20, 2, 30, 3, 40], 2);
        var adapter = Adapter.Create()
            .ToArray()
            .Log("theta")
            .Standardize(include: ["x"])
            .Rename("theta", Adapter.InferenceVariables)
            .Rename("x", Adapter.InferenceConditions)
            .Fit(data);

        string text = adapter.Describe();

        // x's columns: means 1.5 and 25; population stds √1.25 = 1.118034 and √125 = 11.18034 (G4: 1.118, 11.18).
        Assert.Equal(
            string.Join(Environment.NewLine,
                "Adapter: 5 steps, fitted",
                "  0  to_array()",
                "  1  log('theta')",
                "  2  standardize(include: 'x'; fitted: 'x')",
                "       x: mean [1.5, 25], std [1.118, 11.18]",
                "  3  rename('theta' -> 'inference_variables')",
                "  4  rename('x' -> 'inference_conditions')"),
            text);
    }

    [Fact]
    public void Describe_UnfittedAdapter_SaysSo()
    {
        Assert.StartsWith("Adapter: 1 step, not fitted", Adapter.Create().Standardize().Describe());
    }
}
