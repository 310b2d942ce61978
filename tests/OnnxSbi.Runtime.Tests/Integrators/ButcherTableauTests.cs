using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Integrators;

public class ButcherTableauTests
{
    // The 17 order conditions Σ b·Φ(τ) = 1/γ(τ) for the rooted trees τ of order ≤ 5 (Butcher,
    // Numerical Methods for ODEs, §31; Hairer–Nørsett–Wanner I, Table II.2.2), assuming c = A·1.
    private static IEnumerable<(int Order, string Tree, double Value, double Expected)> OrderConditions(ButcherTableau t, double[] b)
    {
        double[] c = t.C, one = c.Select(_ => 1.0).ToArray();
        double[] Ac = Mul(t, c), Ac2 = Mul(t, Pow(c, 2)), AAc = Mul(t, Ac);
        yield return (1, "b·1", Dot(b, one), 1.0);
        yield return (2, "b·c", Dot(b, c), 1.0 / 2);
        yield return (3, "b·c²", Dot(b, Pow(c, 2)), 1.0 / 3);
        yield return (3, "b·Ac", Dot(b, Ac), 1.0 / 6);
        yield return (4, "b·c³", Dot(b, Pow(c, 3)), 1.0 / 4);
        yield return (4, "b·(c∘Ac)", Dot(b, Had(c, Ac)), 1.0 / 8);
        yield return (4, "b·Ac²", Dot(b, Ac2), 1.0 / 12);
        yield return (4, "b·AAc", Dot(b, AAc), 1.0 / 24);
        yield return (5, "b·c⁴", Dot(b, Pow(c, 4)), 1.0 / 5);
        yield return (5, "b·(c²∘Ac)", Dot(b, Had(Pow(c, 2), Ac)), 1.0 / 10);
        yield return (5, "b·(c∘Ac²)", Dot(b, Had(c, Ac2)), 1.0 / 15);
        yield return (5, "b·(c∘AAc)", Dot(b, Had(c, AAc)), 1.0 / 30);
        yield return (5, "b·(Ac∘Ac)", Dot(b, Had(Ac, Ac)), 1.0 / 20);
        yield return (5, "b·Ac³", Dot(b, Mul(t, Pow(c, 3))), 1.0 / 20);
        yield return (5, "b·A(c∘Ac)", Dot(b, Mul(t, Had(c, Ac))), 1.0 / 40);
        yield return (5, "b·AAc²", Dot(b, Mul(t, Ac2)), 1.0 / 60);
        yield return (5, "b·AAAc", Dot(b, Mul(t, AAc)), 1.0 / 120);
    }

    public static TheoryData<string> Methods => new() { "euler", "rk4", "dopri5", "tsit5" };

    private static ButcherTableau Get(string name) => ButcherTableau.For(IntegratorKinds.Parse(name));

    [Theory]
    [MemberData(nameof(Methods))]
    public void Tableau_RowSums_EqualNodes(string method)
    {
        var t = Get(method);
        for (int i = 0; i < t.Stages; i++)
        {
            // Tolerance 1e-14: the rows are rationals or 16-digit decimals; only double rounding remains.
            Assert.Equal(t.C[i], t.A[i].Sum(), 1e-14);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Tableau_Weights_SatisfyOrderConditionsUpToTheirOrder(string method)
    {
        var t = Get(method);
        foreach (var (order, tree, value, expected) in OrderConditions(t, t.B))
        {
            if (order > t.Order) continue;
            // Tolerance 1e-13: Dopri5 and RK4 are exact rationals; Tsitouras (2011) prints 16 significant
            // digits, so its conditions hold to a few units of 1e-16 times coefficients of size ~10.
            Assert.True(Math.Abs(value - expected) < 1e-13, $"{method} {tree}: {value:R} != {expected:R}");
        }
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("rk4")]
    public void Tableau_FixedStepWeights_FailNextOrder(string method)
    {
        var t = Get(method);
        // A method of order p must violate some order-(p+1) condition by O(1), not by rounding.
        Assert.Contains(OrderConditions(t, t.B), x => x.Order == t.Order + 1 && Math.Abs(x.Value - x.Expected) > 1e-3);
    }

    [Theory]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Tableau_EmbeddedWeights_AreFourthOrderNotFifth(string method)
    {
        var t = Get(method);
        double[] bHat = t.B.Zip(t.E!, (b, e) => b - e).ToArray();
        foreach (var (order, tree, value, expected) in OrderConditions(t, bHat))
        {
            if (order > 4) continue;
            // Tolerance 1e-12: Tsitouras prints the embedded weights to 15 digits.
            Assert.True(Math.Abs(value - expected) < 1e-12, $"{method} embedded {tree}: {value:R} != {expected:R}");
        }
        // The estimate is useful only if the embedded solution is genuinely of lower order.
        Assert.Contains(OrderConditions(t, bHat), x => x.Order == 5 && Math.Abs(x.Value - x.Expected) > 1e-5);
    }

    [Theory]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Tableau_FifthOrderWeights_MissTheTallSixthOrderTree(string method)
    {
        var t = Get(method);
        // b·A⁵·1 = 1/720 is the order-6 condition of the tall tree; a true 5th-order pair misses it by O(1e-5).
        double[] v = t.C.Select(_ => 1.0).ToArray();
        for (int k = 0; k < 5; k++) v = Mul(t, v);
        Assert.True(Math.Abs(Dot(t.B, v) - 1.0 / 720) > 1e-5);
    }

    [Theory]
    [InlineData("euler", false)]
    [InlineData("rk4", false)]
    [InlineData("dopri5", true)]
    [InlineData("tsit5", true)]
    public void Tableau_FirstSameAsLast_OnlyForAdaptivePairs(string method, bool fsal)
    {
        Assert.Equal(fsal, Get(method).Fsal);
    }

    private static double[] Mul(ButcherTableau t, double[] v)
    {
        var r = new double[t.Stages];
        for (int i = 0; i < t.Stages; i++)
            for (int j = 0; j < t.A[i].Length; j++) r[i] += t.A[i][j] * v[j];
        return r;
    }

    private static double[] Pow(double[] v, int p) => v.Select(x => Math.Pow(x, p)).ToArray();

    private static double[] Had(double[] x, double[] y) => x.Zip(y, (a, b) => a * b).ToArray();

    private static double Dot(double[] x, double[] y) => x.Zip(y, (a, b) => a * b).Sum();
}
