using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Trainer.Adapters;

namespace OnnxSbi.Trainer.Tests;

public sealed class AdapterRecipeTests
{
    private static ArrayBatch Data()
    {
        var rng = new Random(9);
        int rows = 40;
        double[] Draw(int n, Func<double> f) => [.. Enumerable.Range(0, n).Select(_ => f())];
        return new ArrayBatch(rows)
            .Set("mu", Draw(rows, () => 3 * rng.NextDouble() - 1))
            .Set("sigma", Draw(rows, () => 0.1 + 4 * rng.NextDouble()))
            .Set("y", Draw(rows * 5, () => 20 * rng.NextDouble()), 5)
            .Set("n", Draw(rows, () => 1 + rng.Next(10)));
    }

    private static void AssertSameChain(Adapter expected, Adapter actual)
    {
        var data = Data();
        // The same transforms fitted on the same rows by the same code: equal bit for bit.
        Assert.Equal(expected.Fit(data).ToSpec(), actual.Fit(data).ToSpec());
    }

    [Fact]
    public void Build_OneVariableOneCondition_RenamesAndStandardizesTheConditionOnly()
    {
        var built = new AdapterRecipe(["mu"], ["y"]).Build();

        var expected = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Standardize(include: ["y"])
            .Rename("mu", Adapter.InferenceVariables)
            .Rename("y", Adapter.InferenceConditions);
        Assert.False(built.IsFitted);
        AssertSameChain(expected, built);
    }

    [Fact]
    public void Build_SeveralVariablesAndConditions_ConcatenatesInTheGivenOrder()
    {
        var built = new AdapterRecipe(["sigma,mu"], ["y", "n"]).Build();

        var expected = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Standardize(include: ["y", "n"])
            .Concatenate(["sigma", "mu"], Adapter.InferenceVariables)
            .Concatenate(["y", "n"], Adapter.InferenceConditions);
        AssertSameChain(expected, built);
        var adapted = built.Forward(Data());
        Assert.Equal(2, adapted.Width(Adapter.InferenceVariables));
        Assert.Equal(6, adapted.Width(Adapter.InferenceConditions));
        Assert.Equal(Data().Get("sigma")[0], adapted.Get(Adapter.InferenceVariables)[0], 1e-6); // float32 rounding of a value below 5
    }

    [Fact]
    public void Build_NoConditions_ProducesOnlyInferenceVariables()
    {
        var adapted = new AdapterRecipe(["mu"]).Build().Fit(Data()).Forward(Data());

        Assert.Contains(Adapter.InferenceVariables, adapted.Names);
        Assert.DoesNotContain(Adapter.InferenceConditions, adapted.Names);
    }

    [Theory]
    [InlineData("all", new[] { "mu", "sigma", "y" })]
    [InlineData("conditions", new[] { "y" })]
    [InlineData("variables", new[] { "mu", "sigma" })]
    [InlineData("none", new string[0])]
    [InlineData("y,sigma", new[] { "sigma", "y" })]
    [InlineData("conditions,mu", new[] { "mu", "y" })]
    public void Standardize_KeywordsAndNames_SelectThoseVariablesInRecipeOrder(string which, string[] expected)
    {
        var recipe = new AdapterRecipe(["mu", "sigma"], ["y"]).Standardize(which);

        Assert.Equal(expected, recipe.StandardizedVariables);
        var spec = recipe.Build().ToSpec();
        var standardize = spec.Steps.Where(s => s.Standardize is not null).Select(s => s.Standardize).ToList();
        if (expected.Length == 0) Assert.Empty(standardize);
        else Assert.Equal(expected, Assert.Single(standardize).Include);
    }

    [Fact]
    public void LogAndConstrain_ShortHands_PrecedeStandardizeInTheVariablesOrder()
    {
        var built = new AdapterRecipe(["mu", "sigma"], ["y"])
            .Log("sigma")
            .Constrain("mu:-1:2")
            .Standardize("all")
            .Build();

        var expected = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Constrain("mu", -1, 2)
            .Log("sigma")
            .Standardize(include: ["mu", "sigma", "y"])
            .Concatenate(["mu", "sigma"], Adapter.InferenceVariables)
            .Rename("y", Adapter.InferenceConditions);
        AssertSameChain(expected, built);
    }

    [Theory]
    [InlineData("sigma:0:", 0.0, null)]
    [InlineData("sigma::10", null, 10.0)]
    [InlineData("sigma:-2.5:1e1", -2.5, 10.0)]
    [InlineData(" sigma : 0 : 5 ", 0.0, 5.0)]
    public void Constrain_ShortHand_ParsesEitherBoundOrBoth(string shortHand, double? lower, double? upper)
    {
        var step = new AdapterRecipe(["sigma"]).Constrain(shortHand).Build().ToSpec().Steps
            .Single(s => s.Constrain is not null).Constrain;

        Assert.Equal(["sigma"], step.Keys);
        Assert.Equal(lower is not null, step.HasLower);
        Assert.Equal(upper is not null, step.HasUpper);
        if (lower is { } l) Assert.Equal(l, step.Lower);
        if (upper is { } u) Assert.Equal(u, step.Upper);
    }

    [Fact]
    public void Constrain_Typed_EqualsTheShortHand()
    {
        AssertSameChain(
            new AdapterRecipe(["sigma"], ["y"]).Constrain("sigma:0:").Build(),
            new AdapterRecipe(["sigma"], ["y"]).Constrain("sigma", 0, null).Build());
    }

    [Theory]
    [InlineData("sigma", "Constrain 'sigma' must read NAME:LOWER:UPPER")]
    [InlineData("sigma:0", "Constrain 'sigma:0' must read NAME:LOWER:UPPER")]
    [InlineData(":0:1", "Constrain ':0:1' must read NAME:LOWER:UPPER")]
    [InlineData("sigma::", "Constrain 'sigma::' has no bound")]
    [InlineData("sigma:a:1", "Constrain 'sigma:a:1': the lower bound 'a' is not a number")]
    [InlineData("sigma:0:inf", "Constrain 'sigma:0:inf': the upper bound 'inf' is not a number")]
    [InlineData("sigma:0:Infinity", "Constrain 'sigma:0:Infinity': the upper bound must be finite")]
    [InlineData("sigma:1:1", "Constrain 'sigma:1:1': the lower bound (1) must be below the upper bound (1).")]
    [InlineData("sigma:2:1", "the lower bound (2) must be below the upper bound (1).")]
    [InlineData("tau:0:", "Cannot constrain 'tau': it is not one of the recipe's variables ('mu', 'sigma', 'y').")]
    public void Constrain_BadShortHand_ThrowsNamingIt(string shortHand, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => new AdapterRecipe(["mu", "sigma"], ["y"]).Constrain(shortHand));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Log_UnknownOrTwice_Throws()
    {
        var recipe = new AdapterRecipe(["mu", "sigma"], ["y"]).Log("sigma");

        Assert.Contains("Cannot log 'tau': it is not one of the recipe's variables", Assert.Throws<ArgumentException>(() => recipe.Log("tau")).Message);
        Assert.Contains("Cannot log 'sigma': it is already logged", Assert.Throws<ArgumentException>(() => recipe.Log("sigma")).Message);
        Assert.Contains("Cannot constrain 'sigma': it is already logged", Assert.Throws<ArgumentException>(() => recipe.Constrain("sigma:0:")).Message);
    }

    [Theory]
    [InlineData("everything", "Cannot standardize 'everything': expected 'all', 'conditions', 'variables', 'none' or one of the recipe's variables ('mu', 'y').")]
    [InlineData("none,y", "Standardize 'none' cannot be combined with other entries")]
    [InlineData("y,", "Empty standardize entry name in 'y,'.")]
    public void Standardize_BadEntry_Throws(string which, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => new AdapterRecipe(["mu"], ["y"]).Standardize(which));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Constructor_BadNames_Throw()
    {
        Assert.Contains("at least one inference variable", Assert.Throws<ArgumentException>(() => new AdapterRecipe([], ["y"])).Message);
        Assert.Contains("'y' is listed both as an inference variable and as an inference condition",
            Assert.Throws<ArgumentException>(() => new AdapterRecipe(["mu", "y"], ["y"])).Message);
        Assert.Contains("The inference variable 'mu' is listed twice", Assert.Throws<ArgumentException>(() => new AdapterRecipe(["mu,mu"])).Message);
        Assert.Contains("'inference_variables' is the network-side name",
            Assert.Throws<ArgumentException>(() => new AdapterRecipe([Adapter.InferenceVariables])).Message);
    }

    [Fact]
    public void Build_ThroughJson_RoundTripsAndFitsLikeTheRecipe()
    {
        var recipe = new AdapterRecipe(["mu", "sigma"], ["y"]).Constrain("sigma:0:").Standardize("all");

        var fromFile = Adapter.FromJson(recipe.Build().ToJson(), "recipe.json");

        AssertSameChain(recipe.Build(), fromFile);
    }
}
