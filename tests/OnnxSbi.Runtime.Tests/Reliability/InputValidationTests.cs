using System.Globalization;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Tests.Sampling;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>
/// Input checks that complement PosteriorModelTests: absurd draw counts and the log-density path,
/// each refused before any native call with a message naming the variable, expected and received value.
/// </summary>
public sealed class InputValidationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-validation-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static ArrayBatch X(params double[] values) => new ArrayBatch(values.Length / 2).Set("x", values, 2);

    [Fact]
    public void Sample_AbsurdDrawCountUnderDefaultCap_IsRefusedNamingTotalAndLimit()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow));
        // int.MaxValue draws would need 16 GiB of float32 network output; the default cap refuses it up front.
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(X(0, 0), int.MaxValue));
        Assert.Contains(int.MaxValue.ToString(CultureInfo.InvariantCulture), e.Message);
        Assert.Contains(new RuntimeOptions().MaxDrawsPerCall.ToString(CultureInfo.InvariantCulture), e.Message);
        Assert.Contains("MaxDrawsPerCall", e.Message);
    }

    [Fact]
    public void Sample_DrawsBeyondArrayLimitWithCapLifted_IsRefused()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { MaxDrawsPerCall = long.MaxValue });
        var conditions = new ArrayBatch(4).Set("x", new double[8], 2);
        // 4 × 2^30 draws × 2 dimensions = 2^33 values, more than one array can hold, even with the cap lifted.
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(conditions, 1 << 30));
        Assert.Contains("8589934592 values", e.Message);
        Assert.Contains(Array.MaxLength.ToString(CultureInfo.InvariantCulture), e.Message);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    public void RuntimeOptions_NonPositiveMaxDraws_IsRefusedAtLoad(long cap)
    {
        string path = GaussianBundles.Write(dir, NetworkFamily.CouplingFlow);
        var e = Assert.Throws<InvalidRequestException>(() => PosteriorModel.Load(path, new RuntimeOptions { MaxDrawsPerCall = cap }));
        Assert.Contains("MaxDrawsPerCall", e.Message);
        Assert.Contains(cap.ToString(CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void LogProb_UnknownThetaName_NamesItAndTheValidOnes()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow));
        var e = Assert.Throws<UnknownVariableException>(() => model.LogProb(new ArrayBatch(1).Set("phi", [0, 0], 2), X(0, 0)));
        Assert.Contains("'phi'", e.Message);
        Assert.Contains("'theta'", e.Message);
    }

    [Fact]
    public void LogProb_NaNTheta_NamesVariableAndRow()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow));
        var e = Assert.Throws<NonFiniteValueException>(() => model.LogProb(new ArrayBatch(2).Set("theta", [0, 0, double.NaN, 0], 2), X(0, 0)));
        Assert.Equal("theta", e.VariableName);
        Assert.Equal(1, e.Row);
    }

    [Fact]
    public void LogProb_ConditionRowsMismatch_NamesExpectedAndReceived()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow));
        var e = Assert.Throws<ShapeMismatchException>(() => model.LogProb(new ArrayBatch(3).Set("theta", new double[6], 2), X(0, 0, 1, 1)));
        Assert.Contains("[3, …]", e.Message);
        Assert.Contains("[2, …]", e.Message);
    }

    [Fact]
    public void Sample_ZeroConditionRows_IsRefused()
    {
        using var model = PosteriorModel.Load(GaussianBundles.Write(dir, NetworkFamily.CouplingFlow));
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(new ArrayBatch(0).Set("x", [], 2), 10));
        Assert.Contains("0 rows", e.Message);
    }
}
