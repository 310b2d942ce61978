using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Runtime.Tests.Simulators;

/// <summary>A simulator that marks a failed simulation NaN: refused by default, kept as a NaN row when asked.</summary>
public sealed class SimulatorNonFiniteTests
{
    // Row 3 of every batch fails, as an ODE solve that does not converge would.
    private static Simulator Failing() => Simulator.Create(1)
        .Add("prior", ctx =>
        {
            double[] theta = ctx.Output("theta", 2);
            for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextNormal();
        })
        .Add("likelihood", ctx =>
        {
            double[] theta = ctx.Get("theta");
            double[] x = ctx.Output("x", 2);
            for (int i = 0; i < x.Length; i++) x[i] = i / 2 == 3 ? double.NaN : theta[i] + ctx.Random.NextNormal();
        });

    [Fact]
    public void Sample_NaNOutputByDefault_ThrowsNamingVariableRowAndStep()
    {
        var simulator = Failing();
        Assert.True(simulator.RejectsNonFinite);
        var e = Assert.Throws<NonFiniteValueException>(() => simulator.Sample(8, seed: 2));
        Assert.Equal("x", e.VariableName);
        Assert.Equal(3, e.Row);
        Assert.Contains("'likelihood'", e.Message);
    }

    [Fact]
    public void Sample_KeepNonFiniteRows_ReturnsTheFailedRowAsNaNAndTheOthersUnchanged()
    {
        var kept = Failing().KeepNonFiniteRows();
        Assert.False(kept.RejectsNonFinite);
        var batch = kept.Sample(8, seed: 2);
        double[] x = batch.Get("x");
        for (int r = 0; r < 8; r++)
            Assert.True(double.IsNaN(x[2 * r]) == (r == 3) && double.IsNaN(x[2 * r + 1]) == (r == 3), $"row {r}: ({x[2 * r]}, {x[2 * r + 1]})");
        // The parameters of the failed row are still simulated: only its observation failed.
        Assert.All(batch.Get("theta"), v => Assert.True(double.IsFinite(v)));
    }
}
