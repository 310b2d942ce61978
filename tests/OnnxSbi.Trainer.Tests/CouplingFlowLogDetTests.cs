using OnnxSbi.Trainer.Networks;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowLogDetTests(ITestOutputHelper output) : SingleThreadedTorch
{
    [Theory]
    [InlineData("affine", "random")]
    [InlineData("spline", "random")]
    [InlineData("affine", "orthogonal")]
    [InlineData("spline", "orthogonal")]
    public void LogDet_RandomPoints_MatchesFiniteDifferenceJacobian(string transform, string permutation)
    {
        const int d = 3, points = 40;
        const double h = 1e-5;
        using var net = CouplingFlowFixtures.Perturbed(d, 1, new CouplingFlowOptions(Depth: 4, Transform: transform, Permutation: permutation), seed: 13);
        using var theta = randn(points, d) * 1.5;
        using var c = randn(points, 1);
        var graph = net.ExportGraphs(CouplingFlowFixtures.Info)["forward"];
        var onnx = OrtEval.Run(graph, ("theta", CouplingFlowFixtures.Floats(theta), [points, d]), ("conditions", CouplingFlowFixtures.Floats(c), [points, 1]))["log_det"];

        // The same network in double precision: the reference Jacobian by central differences.
        net.to(ScalarType.Float64);
        using var noGrad = no_grad();
        using var theta64 = theta.to(ScalarType.Float64);
        using var c64 = c.to(ScalarType.Float64);
        var (_, analytic) = net.Forward(theta64, c64);
        var analyticValues = CouplingFlowFixtures.Doubles(analytic);
        analytic.Dispose();
        // Rows: for each point and dimension j, θ + h·e_j then θ − h·e_j.
        using var steps = eye(d, dtype: ScalarType.Float64) * h;
        using var plus = (theta64.unsqueeze(1) + steps.unsqueeze(0)).reshape(-1, d);
        using var minus = (theta64.unsqueeze(1) - steps.unsqueeze(0)).reshape(-1, d);
        using var cRep = c64.repeat_interleave(d, 0);
        var (zPlus, _) = net.Forward(plus, cRep);
        var (zMinus, _) = net.Forward(minus, cRep);
        var jacobianColumns = CouplingFlowFixtures.Doubles((zPlus - zMinus) / (2 * h));
        zPlus.Dispose();
        zMinus.Dispose();

        double worstAnalytic = 0, worstOnnx = 0;
        for (int p = 0; p < points; p++)
        {
            var jacobian = new double[d, d];
            for (int j = 0; j < d; j++)
                for (int i = 0; i < d; i++)
                    jacobian[i, j] = jacobianColumns[(p * d + j) * d + i];
            double reference = LogAbsDet(jacobian);
            worstAnalytic = Math.Max(worstAnalytic, Math.Abs(analyticValues[p] - reference));
            worstOnnx = Math.Max(worstOnnx, Math.Abs(onnx[p] - reference));
        }
        // Central differences with h = 1e-5 in double precision err by O(h²·f''') ≈ 1e-10·(1/w)³ for
        // spline bins of width w ≥ 0.1, about 1e-7, plus rounding ε/h ≈ 1e-11: the analytic log-det of
        // the double-precision network must agree to 1e-6. The float32 graph adds its own rounding,
        // measured below 1e-4 in the parity tests; 2e-4 bounds both.
        output.WriteLine($"{transform}/{permutation}: max |analytic − FD| {worstAnalytic:G3}, max |ONNX − FD| {worstOnnx:G3}");
        Assert.True(worstAnalytic <= 1e-6, $"double-precision analytic log-det vs finite differences: {worstAnalytic}");
        Assert.True(worstOnnx <= 2e-4, $"ONNX float32 log_det vs finite differences: {worstOnnx}");
    }

    /// <summary>log|det A| by Gaussian elimination with partial pivoting.</summary>
    private static double LogAbsDet(double[,] a)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            int pivot = k;
            for (int i = k + 1; i < n; i++) if (Math.Abs(m[i, k]) > Math.Abs(m[pivot, k])) pivot = i;
            for (int j = 0; j < n; j++) (m[k, j], m[pivot, j]) = (m[pivot, j], m[k, j]);
            sum += Math.Log(Math.Abs(m[k, k]));
            for (int i = k + 1; i < n; i++)
            {
                double f = m[i, k] / m[k, k];
                for (int j = k; j < n; j++) m[i, j] -= f * m[k, j];
            }
        }
        return sum;
    }
}
