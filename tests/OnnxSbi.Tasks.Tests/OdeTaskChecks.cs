using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks.Tests;

/// <summary>Checks shared by the ODE task tests.</summary>
internal static class OdeTaskChecks
{
    /// <summary>
    /// The largest difference between the system's analytic Jacobian at <paramref name="y"/> and central differences
    /// of its derivative, relative to the Jacobian's largest entry.
    /// </summary>
    public static double JacobianMismatch<TSystem>(TSystem system, double[] y) where TSystem : struct, IOdeSystem
    {
        int n = system.Dimension;
        var analytic = new double[n * n];
        system.Jacobian(y, analytic);
        var plus = new double[n];
        var minus = new double[n];
        double worst = 0, scale = analytic.Max(Math.Abs);
        for (int j = 0; j < n; j++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(y[j]));
            var yp = (double[])y.Clone();
            var ym = (double[])y.Clone();
            yp[j] += h;
            ym[j] -= h;
            system.Derivative(yp, plus);
            system.Derivative(ym, minus);
            for (int i = 0; i < n; i++) worst = Math.Max(worst, Math.Abs((plus[i] - minus[i]) / (2 * h) - analytic[i * n + j]));
        }
        return worst / scale;
    }
}
