using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks.Tests;

public sealed class Rodas4SolverTests
{
    /// <summary>
    /// y′ = A·y with A = P·diag(−1, −10⁵)·P⁻¹, P = [[1, 1], [1, 2]]: stiffness ratio 10⁵, exact solution
    /// P·diag(e^(−t), e^(−10⁵t))·P⁻¹·y₀.
    /// </summary>
    private readonly struct StiffLinear : IOdeSystem
    {
        public const double Slow = -1, Fast = -1e5;

        // P⁻¹ = [[2, −1], [−1, 1]]; A = P·Λ·P⁻¹.
        public static readonly double[] A =
        [
            2 * Slow - Fast, -Slow + Fast,
            2 * Slow - 2 * Fast, -Slow + 2 * Fast,
        ];

        public int Dimension => 2;

        public void Derivative(ReadOnlySpan<double> y, Span<double> dydt)
        {
            dydt[0] = A[0] * y[0] + A[1] * y[1];
            dydt[1] = A[2] * y[0] + A[3] * y[1];
        }

        public void Jacobian(ReadOnlySpan<double> y, Span<double> jacobian) => A.CopyTo(jacobian);

        public static (double, double) Exact(double t, double y1, double y2)
        {
            double w1 = 2 * y1 - y2, w2 = -y1 + y2; // P⁻¹·y₀
            double e1 = w1 * Math.Exp(Slow * t), e2 = w2 * Math.Exp(Fast * t);
            return (e1 + e2, e1 + 2 * e2);
        }
    }

    /// <summary>Robertson's chemical kinetics (Robertson 1966; Hairer &amp; Wanner II, §IV.1): the classic stiff test.</summary>
    private readonly struct Robertson : IOdeSystem
    {
        public int Dimension => 3;

        public void Derivative(ReadOnlySpan<double> y, Span<double> dydt)
        {
            dydt[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
            dydt[2] = 3e7 * y[1] * y[1];
            dydt[1] = -dydt[0] - dydt[2];
        }

        public void Jacobian(ReadOnlySpan<double> y, Span<double> j)
        {
            j[0] = -0.04; j[1] = 1e4 * y[2]; j[2] = 1e4 * y[1];
            j[6] = 0; j[7] = 6e7 * y[1]; j[8] = 0;
            j[3] = 0.04; j[4] = -1e4 * y[2] - 6e7 * y[1]; j[5] = -1e4 * y[1];
        }
    }

    /// <summary>
    /// A smooth nonlinear non-stiff system with a known solution: z′ = B·z (a damped rotation, eigenvalues
    /// −0.4 ± i·√0.99) seen through y = (z₁ + z₂², z₂), so that f is nonlinear and couples both components.
    /// </summary>
    private readonly struct BentRotation : IOdeSystem
    {
        private const double A = -0.5, B = 1, C = -1, D = -0.3;

        public int Dimension => 2;

        public void Derivative(ReadOnlySpan<double> y, Span<double> dydt)
        {
            double z1 = y[0] - y[1] * y[1], z2 = y[1];
            double dz1 = A * z1 + B * z2, dz2 = C * z1 + D * z2;
            dydt[0] = dz1 + 2 * z2 * dz2;
            dydt[1] = dz2;
        }

        public void Jacobian(ReadOnlySpan<double> y, Span<double> j)
        {
            double z1 = y[0] - y[1] * y[1], z2 = y[1];
            double dz2 = C * z1 + D * z2;
            j[0] = A + 2 * C * z2;
            j[1] = -2 * A * z2 + B + 2 * dz2 + 2 * z2 * (-2 * C * z2 + D);
            j[2] = C;
            j[3] = -2 * C * z2 + D;
        }

        public static (double, double) Exact(double t, double y1, double y2)
        {
            // e^(Bt) = e^(μt)·[cos(ωt)·I + sin(ωt)/ω·(B − μI)] for eigenvalues μ ± iω.
            double mu = (A + D) / 2, omega = Math.Sqrt(A * D - B * C - mu * mu);
            double z1 = y1 - y2 * y2, z2 = y2;
            double e = Math.Exp(mu * t), cos = Math.Cos(omega * t), sin = Math.Sin(omega * t) / omega;
            double w1 = e * (cos * z1 + sin * ((A - mu) * z1 + B * z2));
            double w2 = e * (cos * z2 + sin * (C * z1 + (D - mu) * z2));
            return (w1 + w2 * w2, w2);
        }
    }

    [Fact]
    public void Solve_StiffLinearSystem_MatchesExactSolutionAtTightTolerance()
    {
        var solver = new Rodas4Solver(2, new OdeOptions(RelativeTolerance: 1e-10, AbsoluteTolerance: 1e-12));
        double[] times = [1e-5, 1e-3, 0.1, 1, 5, 10];
        var outputs = new double[times.Length * 2];
        Assert.Equal(OdeStatus.Success, solver.Solve(new StiffLinear(), [1.0, 0.5], 0, times, outputs, tEnd: 10));
        for (int k = 0; k < times.Length; k++)
        {
            var (e1, e2) = StiffLinear.Exact(times[k], 1.0, 0.5);
            // rtol 1e-10 per step; the global error of a damped linear problem stays of the order of the local
            // tolerances, so 1e-8 relative (plus 1e-11 absolute) leaves a margin of 100.
            Assert.InRange(outputs[2 * k] - e1, -(1e-8 * Math.Abs(e1) + 1e-11), 1e-8 * Math.Abs(e1) + 1e-11);
            Assert.InRange(outputs[2 * k + 1] - e2, -(1e-8 * Math.Abs(e2) + 1e-11), 1e-8 * Math.Abs(e2) + 1e-11);
        }
        // An explicit method needs h < 2.8·10⁻⁵ for stability over t ∈ [0, 10] (3.6·10⁵ steps); the L-stable
        // method follows the slow mode after the transient.
        Assert.InRange(solver.AcceptedSteps, 1, 2_000);
    }

    [Fact]
    public void Solve_Robertson_MatchesReferenceValuesAtT40()
    {
        var solver = new Rodas4Solver(3, new OdeOptions(RelativeTolerance: 1e-10, AbsoluteTolerance: 1e-14));
        var y = new double[3];
        Assert.Equal(OdeStatus.Success, solver.Solve(new Robertson(), [1.0, 0, 0], 0, [40.0], y, tEnd: 40));
        // Reference (Hairer & Wanner II, §IV.10; Mazzia & Magherini's test set): y(40) = (0.7158270687193135,
        // 9.185534764557e-6, 0.2841637457458). Tolerance 1e-7 relative: ten times the global error expected at
        // rtol 1e-10 over the transient.
        Assert.Equal(0.7158270687193135, y[0], 0.7158270687193135 * 1e-7);
        Assert.Equal(9.185534764557e-6, y[1], 9.185534764557e-6 * 1e-7);
        Assert.Equal(0.2841637457458, y[2], 0.2841637457458 * 1e-7);
        // The components sum to 1 exactly for the ODE; a Rosenbrock method with the exact Jacobian keeps linear
        // invariants up to rounding.
        Assert.Equal(1.0, y[0] + y[1] + y[2], 1e-13);
    }

    [Fact]
    public void SolveFixed_HalvingTheStep_CutsTheErrorSixteenfold()
    {
        var solver = new Rodas4Solver(2, new OdeOptions());
        double[] y0 = [0.3, 0.8];
        var (e1, e2) = BentRotation.Exact(2.0, y0[0], y0[1]);
        var y = new double[2];
        var errors = new double[4];
        for (int i = 0; i < errors.Length; i++)
        {
            Assert.True(solver.SolveFixed(new BentRotation(), y0, 0, 2.0, 10 << i, y));
            errors[i] = Math.Sqrt(Square(y[0] - e1) + Square(y[1] - e2));
        }
        for (int i = 1; i < errors.Length; i++)
        {
            double order = Math.Log2(errors[i - 1] / errors[i]);
            // Order 4: the observed order approaches 4 as h → 0; 3.6–4.6 tolerates the O(h⁵) terms at h = 0.2,
            // while an order-3 tableau error would give about 3.
            Assert.InRange(order, 3.6, 4.6);
        }
    }

    [Fact]
    public void Solve_TighterTolerance_ShrinksTheErrorInProportion()
    {
        double[] y0 = [0.3, 0.8];
        var (e1, e2) = BentRotation.Exact(10.0, y0[0], y0[1]);
        var y = new double[2];
        double previous = double.NaN;
        foreach (double tol in new[] { 1e-5, 1e-7, 1e-9 })
        {
            var solver = new Rodas4Solver(2, new OdeOptions(tol, tol));
            Assert.Equal(OdeStatus.Success, solver.Solve(new BentRotation(), y0, 0, [10.0], y, tEnd: 10));
            double error = Math.Sqrt(Square(y[0] - e1) + Square(y[1] - e2));
            // The global error follows the tolerance: within a factor 30 of it either way.
            Assert.InRange(error, tol / 30, tol * 30);
            if (!double.IsNaN(previous)) Assert.True(error < previous / 10, $"error {error:G3} at tol {tol:G1} vs {previous:G3} before");
            previous = error;
        }
    }

    [Fact]
    public void Solve_StepCapReached_ReportsMaxStepsExceeded()
    {
        var solver = new Rodas4Solver(3, new OdeOptions(1e-10, 1e-14, MaxSteps: 20));
        var y = new double[3];
        Assert.Equal(OdeStatus.MaxStepsExceeded, solver.Solve(new Robertson(), [1.0, 0, 0], 0, [40.0], y, tEnd: 40));
        Assert.Equal(20, solver.AcceptedSteps + solver.RejectedSteps);
    }

    [Fact]
    public void Solve_BlowUp_ReportsStepSizeTooSmall()
    {
        // y′ = y² from y(0) = 1 is 1/(1 − t), which leaves every finite range at t = 1.
        var solver = new Rodas4Solver(1, new OdeOptions());
        var y = new double[1];
        OdeStatus status = solver.Solve(new Square1D(), [1.0], 0, [2.0], y, tEnd: 2);
        Assert.Equal(OdeStatus.StepSizeTooSmall, status);
    }

    private readonly struct Square1D : IOdeSystem
    {
        public int Dimension => 1;
        public void Derivative(ReadOnlySpan<double> y, Span<double> dydt) => dydt[0] = y[0] * y[0];
        public void Jacobian(ReadOnlySpan<double> y, Span<double> jacobian) => jacobian[0] = 2 * y[0];
    }

    [Fact]
    public void Solve_OutputTimes_AreHitExactlyIncludingTheStart()
    {
        var solver = new Rodas4Solver(2, new OdeOptions(1e-10, 1e-10));
        double[] times = [0, 0.5, 0.5, 3];
        var outputs = new double[times.Length * 2];
        Assert.Equal(OdeStatus.Success, solver.Solve(new BentRotation(), [0.3, 0.8], 0, times, outputs, tEnd: 4));
        Assert.Equal([0.3, 0.8], outputs[..2]);
        Assert.Equal(outputs[2], outputs[4]);
        var (e1, _) = BentRotation.Exact(3, 0.3, 0.8);
        // rtol = atol = 1e-10 locally; 1e-8 allows the global growth over t ∈ [0, 3].
        Assert.Equal(e1, outputs[6], 1e-8);
    }

    [Fact]
    public void Solve_RepeatedCalls_AllocateNothing()
    {
        var solver = new Rodas4Solver(3, new OdeOptions(1e-8, 1e-12));
        var y = new double[3];
        double[] y0 = [1.0, 0, 0], times = [40.0];
        solver.Solve(new Robertson(), y0, 0, times, y, tEnd: 40);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) solver.Solve(new Robertson(), y0, 0, times, y, tEnd: 40);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static double Square(double v) => v * v;
}
