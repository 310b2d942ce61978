using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Integrators;

public class IntegratorOptionsTests
{
    [Theory]
    [InlineData("euler", IntegratorKind.Euler)]
    [InlineData("rk4", IntegratorKind.Rk4)]
    [InlineData("dopri5", IntegratorKind.Dopri5)]
    [InlineData("rk45", IntegratorKind.Dopri5)]
    [InlineData("tsit5", IntegratorKind.Tsit5)]
    [InlineData(" Tsit5 ", IntegratorKind.Tsit5)]
    [InlineData("RK45", IntegratorKind.Dopri5)]
    public void Parse_KnownName_ReturnsKind(string name, IntegratorKind expected)
    {
        Assert.Equal(expected, IntegratorKinds.Parse(name));
    }

    [Fact]
    public void Parse_UnknownName_ThrowsListingValidNames()
    {
        var ex = Assert.Throws<InvalidRequestException>(() => IntegratorKinds.Parse("heun"));
        Assert.Contains("'heun'", ex.Message);
        foreach (var name in new[] { "euler", "rk4", "dopri5", "rk45", "tsit5" })
            Assert.Contains($"'{name}'", ex.Message);
    }

    [Theory]
    [InlineData(IntegratorKind.Euler)]
    [InlineData(IntegratorKind.Rk4)]
    [InlineData(IntegratorKind.Dopri5)]
    [InlineData(IntegratorKind.Tsit5)]
    public void ToName_EveryKind_RoundTripsThroughParse(IntegratorKind kind)
    {
        Assert.Equal(kind, IntegratorKinds.Parse(IntegratorKinds.ToName(kind)));
    }

    [Fact]
    public void Defaults_MatchBayesFlowTsit5Settings()
    {
        var o = new IntegratorOptions(IntegratorKind.Tsit5);
        Assert.Equal((100, 1e-6, 1e-4, 50, 10_000), (o.Steps, o.Atol, o.Rtol, o.MinSteps, o.MaxSteps));
        Assert.True(o.IsAdaptive);
        Assert.False(new IntegratorOptions(IntegratorKind.Rk4).IsAdaptive);
    }

    // IntegratorOptions is internal, so the theory's rows are indices into this table.
    private static readonly (IntegratorOptions Options, string Option)[] Invalid =
    [
        (new IntegratorOptions(IntegratorKind.Euler, Steps: 0), "Steps"),
        (new IntegratorOptions(IntegratorKind.Tsit5, Atol: -1), "Atol"),
        (new IntegratorOptions(IntegratorKind.Tsit5, Rtol: double.NaN), "Rtol"),
        (new IntegratorOptions(IntegratorKind.Tsit5, Atol: 0, Rtol: 0), "Atol"),
        (new IntegratorOptions(IntegratorKind.Tsit5, MinSteps: 0), "MinSteps"),
        (new IntegratorOptions(IntegratorKind.Tsit5, MinSteps: 100, MaxSteps: 99), "MaxSteps"),
        (new IntegratorOptions((IntegratorKind)42), "Kind"),
    ];

    public static TheoryData<int, string> InvalidOptions
    {
        get
        {
            var data = new TheoryData<int, string>();
            for (int i = 0; i < Invalid.Length; i++) data.Add(i, Invalid[i].Option);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_OutOfRange_ThrowsNamingOption(int row, string option)
    {
        var ex = Assert.Throws<InvalidRequestException>(Invalid[row].Options.Validate);
        Assert.Contains($"'{option}'", ex.Message);
    }
}
