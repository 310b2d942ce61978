using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

public class AdapterLogDetTests
{
    // User variables "a" [2] and "b" [1] (and a condition "x"), concatenated into inference_variables
    // after element-wise steps; each case lists those steps and a sampler for values in their domain.
    public static TheoryData<string> Pipelines => ["constrain-both", "constrain-lower", "constrain-upper", "log", "log1p", "sqrt", "standardize", "mixed"];

    private static (Adapter Adapter, Func<Random, double> A, Func<Random, double> B) Case(string name) => name switch
    {
        "constrain-both" => (Adapter.Create().Constrain(["a", "b"], lower: -2, upper: 3), r => -1.9 + 4.8 * r.NextDouble(), r => -1.9 + 4.8 * r.NextDouble()),
        "constrain-lower" => (Adapter.Create().Constrain(["a", "b"], lower: 1), r => 1.05 + 4 * r.NextDouble(), r => 1.05 + 4 * r.NextDouble()),
        "constrain-upper" => (Adapter.Create().Constrain(["a", "b"], upper: -1), r => -1.05 - 4 * r.NextDouble(), r => -1.05 - 4 * r.NextDouble()),
        "log" => (Adapter.Create().Log(["a", "b"]), r => 0.05 + 5 * r.NextDouble(), r => 0.05 + 5 * r.NextDouble()),
        "log1p" => (Adapter.Create().Log(["a", "b"], p1: true), r => -0.9 + 5 * r.NextDouble(), r => -0.9 + 5 * r.NextDouble()),
        "sqrt" => (Adapter.Create().Sqrt("a", "b"), r => 0.05 + 5 * r.NextDouble(), r => 0.05 + 5 * r.NextDouble()),
        "standardize" => (Adapter.Create().Standardize(), r => 3 + 10 * r.NextDouble(), r => -50 + 0.1 * r.NextDouble()),
        "mixed" => (Adapter.Create().ConvertDtype(Dtype.Float64, Dtype.Float64).Constrain("a", 0, 1).Log("b").Standardize().Rename("a", "alpha"),
            r => 0.05 + 0.9 * r.NextDouble(), r => 0.1 + 3 * r.NextDouble()),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static ArrayBatch Batch(double[] a, double[] b, double[] x)
        => new ArrayBatch(b.Length).Set("a", a, 2).Set("b", b).Set("x", x);

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void LogDetJacobian_MatchesFiniteDifferenceJacobian(string name)
    {
        var (steps, drawA, drawB) = Case(name);
        string first = name == "mixed" ? "alpha" : "a";
        var adapter = steps.Concatenate([first, "b"], Adapter.InferenceVariables).Rename("x", Adapter.InferenceConditions);
        var rng = new Random(7);
        int rows = 40;
        var data = Batch([.. Enumerable.Range(0, 2 * rows).Select(_ => drawA(rng))], [.. Enumerable.Range(0, rows).Select(_ => drawB(rng))],
            [.. Enumerable.Range(0, rows).Select(_ => rng.NextDouble())]);
        adapter.Fit(data);

        var logDet = adapter.LogDetJacobian(adapter.Forward(data));

        for (int n = 0; n < rows; n++)
        {
            double[] theta = [data.Get("a")[2 * n], data.Get("a")[2 * n + 1], data.Get("b")[n]];
            double expected = LogAbsDet(Jacobian(adapter, theta));
            // Central differences with h = 1e-6·scale have truncation error ~h² and rounding error
            // ~1e-16/h ≈ 1e-10 relative per entry; 1e-6 on the log-determinant is far above both and
            // far below any mistake (a missing term is at least |log 2| for these domains).
            Assert.True(Math.Abs(logDet[n] - expected) < 1e-6, $"{name}, row {n}: {logDet[n]} vs finite differences {expected}");
        }
    }

    [Fact]
    public void LogDetJacobian_LogOfStandardNormal_GivesTheLogNormalDensity()
    {
        // If y = log θ ~ N(0, 1) on the network side, θ is log-normal: log p(θ) = log N(log θ) − log θ.
        var adapter = Adapter.Create().Log("theta").Rename("theta", Adapter.InferenceVariables);
        double[] theta = [0.2, 1.0, 3.5];
        var network = adapter.Forward(new ArrayBatch(3).Set("theta", theta));

        double[] logDet = adapter.LogDetJacobian(network);

        for (int i = 0; i < theta.Length; i++)
        {
            double y = network.Get(Adapter.InferenceVariables)[i];
            double logQ = -0.5 * y * y - 0.5 * Math.Log(2 * Math.PI);
            double logNormalDensity = -0.5 * Math.Log(theta[i]) * Math.Log(theta[i]) - 0.5 * Math.Log(2 * Math.PI) - Math.Log(theta[i]);
            // Same closed form evaluated two ways: agreement to rounding (1e-14).
            Assert.Equal(logNormalDensity, logQ + logDet[i], 1e-14);
        }
    }

    [Fact]
    public void LogDetJacobian_Standardize_IsMinusSumOfLogStd()
    {
        var adapter = Adapter.Create().Standardize("theta", mean: [1, 2], std: [2, 5]).Rename("theta", Adapter.InferenceVariables);
        var network = new ArrayBatch(2).Set(Adapter.InferenceVariables, [0, 0, 1, -1], 2).Set(Adapter.InferenceConditions, [9, 9]);

        double[] logDet = adapter.LogDetJacobian(network);

        // Two logarithms and a sum: exact to rounding.
        Assert.All(logDet, v => Assert.Equal(-Math.Log(10), v, 1e-15));
    }

    [Fact]
    public void LogDetJacobian_VolumePreservingSteps_GiveZero()
    {
        var data = new ArrayBatch(2).Set("a", [1, 2]).Set("b", [3, 4]).Set("c", [5, 6]);
        var adapter = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32).Drop("c")
            .Concatenate(["a", "b"], Adapter.InferenceVariables).Keep(Adapter.InferenceVariables).Fit(data);

        Assert.Equal([0.0, 0.0], adapter.LogDetJacobian(adapter.Forward(data)));
    }

    [Fact]
    public void LogDetJacobian_UnknownKey_ThrowsListingKnownVariables()
    {
        var network = new ArrayBatch(1).Set("z", [0.0]);

        var ex = Assert.Throws<UnknownVariableException>(() => Adapter.Create().LogDetJacobian(network));

        Assert.Equal(Adapter.InferenceVariables, ex.VariableName);
        Assert.Contains("'z'", ex.Message);
    }

    /// <summary>∂ inference_variables / ∂ (a0, a1, b) at one row, by central differences.</summary>
    private static double[,] Jacobian(Adapter adapter, double[] theta)
    {
        int d = theta.Length;
        var jacobian = new double[d, d];
        for (int k = 0; k < d; k++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(theta[k]));
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[k] += h;
            minus[k] -= h;
            double[] fPlus = Net(adapter, plus), fMinus = Net(adapter, minus);
            for (int i = 0; i < d; i++) jacobian[i, k] = (fPlus[i] - fMinus[i]) / (2 * h);
        }
        return jacobian;
    }

    private static double[] Net(Adapter adapter, double[] theta)
        => adapter.Forward(Batch([theta[0], theta[1]], [theta[2]], [0.5])).Get(Adapter.InferenceVariables);

    /// <summary>log|det M| by Gaussian elimination with partial pivoting.</summary>
    private static double LogAbsDet(double[,] m)
    {
        int d = m.GetLength(0);
        var a = (double[,])m.Clone();
        double logDet = 0;
        for (int c = 0; c < d; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < d; r++)
                if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            for (int k = 0; k < d; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
            logDet += Math.Log(Math.Abs(a[c, c]));
            for (int r = c + 1; r < d; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int k = c; k < d; k++) a[r, k] -= f * a[c, k];
            }
        }
        return logDet;
    }
}
