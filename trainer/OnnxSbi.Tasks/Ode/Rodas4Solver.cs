namespace OnnxSbi.Tasks.Ode;

/// <summary>
/// An adaptive, L-stable Rosenbrock solver for stiff and non-stiff autonomous systems y′ = f(y): the method RODAS4
/// of Hairer &amp; Wanner (Solving Ordinary Differential Equations II, 2nd ed., Springer 1996, §IV.7, with the
/// coefficients of RODAS in their code <c>rodas.f</c>, METH = 1; also OrdinaryDiffEq.jl's <c>Rodas4</c>). It has 6 stages, order 4, an embedded
/// solution of order 3 for the error estimate, and is stiffly accurate (the last stage is the new state), so it
/// damps infinitely stiff components completely.
/// </summary>
/// <remarks>
/// <para>
/// The stages are written in Hairer &amp; Wanner's transformed form (§IV.7, u_i = Σ_j γ_ij·k_j), which needs the exact
/// Jacobian J = ∂f/∂y once per step and one LU factorisation of E = I/(hγ) − J, γ = 1/4:
/// E·u_i = f(y₀ + Σ_{j&lt;i} a_ij·u_j) + Σ_{j&lt;i} (c_ij/h)·u_j, i = 1…6.
/// Because a_6j = a_5j for j ≤ 4, a_65 = 1 and the weights are m = (a_51, a_52, a_53, a_54, 1, 1), the embedded
/// state is y₅ + u₅ and the new state y₁ = y₅ + u₅ + u₆, so u₆ is the local error estimate.
/// </para>
/// <para>
/// Error control: err = ‖u₆ / (atol + rtol·max(|y₀|, |y₁|))‖_RMS; a step is accepted when err ≤ 1, and the next
/// step is h·min(6, max(0.2, 0.9·err^(−1/4))) (never larger after a rejection). The first step follows Hairer,
/// Nørsett &amp; Wanner (Solving ODEs I, §II.4, "starting step size"). Steps are cut to land exactly on each
/// requested output time, so outputs carry the full order-4 accuracy (no interpolation). A step whose stages are
/// not finite, or whose matrix E is singular, is rejected and retried with a quarter of the step.
/// </para>
/// <para>
/// A solve stops with a status instead of hanging: after <see cref="OdeOptions.MaxSteps"/> step attempts, or when
/// the step falls below 16 ulps of the time. The buffers are allocated once per instance, so a solve allocates
/// nothing. Not thread-safe: give each thread its own solver.
/// </para>
/// </remarks>
internal sealed class Rodas4Solver
{
    // Hairer & Wanner, rodas.f (METH = 1): the transformed coefficients a_ij, c_ij of RODAS4, γ = 0.25.
    private const double Gamma = 0.25;
    private const double A21 = 1.544;
    private const double A31 = 0.9466785280815826, A32 = 0.2557011698983284;
    private const double A41 = 3.314825187068521, A42 = 2.896124015972201, A43 = 0.9986419139977817;
    private const double A51 = 1.221224509226641, A52 = 6.019134481288629, A53 = 12.53708332932087, A54 = -0.6878860361058950;
    private const double C21 = -5.6688;
    private const double C31 = -2.430093356833875, C32 = -0.2063599157091915;
    private const double C41 = -0.1073529058151375, C42 = -9.594562251023355, C43 = -20.47028614809616;
    private const double C51 = 7.496443313967647, C52 = -10.24680431464352, C53 = -33.99990352819905, C54 = 11.70890893206160;
    private const double C61 = 8.083246795921522, C62 = -7.981132988064893, C63 = -31.52159432874371, C64 = 16.31930543123136, C65 = -6.058818238834054;

    // Step-size controller: the error estimate is of order 3 (local error O(h⁴)), hence the exponent 1/4.
    private const double Safety = 0.9;
    private const double MinFactor = 0.2;
    private const double MaxFactor = 6.0;
    private const double RejectedNonFiniteFactor = 0.25;

    private readonly int _n;
    private readonly double[] _y, _y1, _stage, _f, _f0, _rhs, _jacobian, _lu;
    private readonly double[] _u1, _u2, _u3, _u4, _u5, _u6;
    private readonly int[] _pivot;

    /// <summary>Creates a solver for systems of dimension <paramref name="dimension"/>.</summary>
    public Rodas4Solver(int dimension, OdeOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _n = dimension;
        Options = options;
        _y = new double[dimension];
        _y1 = new double[dimension];
        _stage = new double[dimension];
        _f = new double[dimension];
        _f0 = new double[dimension];
        _rhs = new double[dimension];
        _u1 = new double[dimension];
        _u2 = new double[dimension];
        _u3 = new double[dimension];
        _u4 = new double[dimension];
        _u5 = new double[dimension];
        _u6 = new double[dimension];
        _jacobian = new double[dimension * dimension];
        _lu = new double[dimension * dimension];
        _pivot = new int[dimension];
    }

    /// <summary>The tolerances and step cap of every solve.</summary>
    public OdeOptions Options { get; }

    /// <summary>The number of accepted steps of the last solve.</summary>
    public int AcceptedSteps { get; private set; }

    /// <summary>The number of rejected step attempts of the last solve.</summary>
    public int RejectedSteps { get; private set; }

    /// <summary>
    /// Integrates from (<paramref name="t0"/>, <paramref name="y0"/>) to <paramref name="tEnd"/> and writes the state at
    /// each of <paramref name="outputTimes"/> (ascending, within [t0, tEnd]) into <paramref name="outputs"/>, row-major
    /// [outputTimes.Length × n]. On failure the rows not reached are left as they were.
    /// </summary>
    public OdeStatus Solve<TSystem>(in TSystem system, ReadOnlySpan<double> y0, double t0, ReadOnlySpan<double> outputTimes,
        Span<double> outputs, double tEnd) where TSystem : struct, IOdeSystem
    {
        CheckShapes(system, y0, outputTimes, outputs.Length, t0, tEnd);
        AcceptedSteps = 0;
        RejectedSteps = 0;
        var y = _y.AsSpan();
        y0.CopyTo(y);
        system.Derivative(y, _f0);
        if (!AllFinite(y) || !AllFinite(_f0)) return OdeStatus.NonFiniteStart;

        int next = 0;
        double t = t0;
        while (next < outputTimes.Length && outputTimes[next] <= t0) y.CopyTo(outputs.Slice(_n * next++, _n));
        if (tEnd == t0) return OdeStatus.Success;

        double h = InitialStep(system, t0, tEnd);
        bool lastRejected = false;
        int attempts = 0;
        while (true)
        {
            // The next stop is the next output time, or the end; a step that would overshoot it lands on it exactly.
            double stop = next < outputTimes.Length ? outputTimes[next] : tEnd;
            double desired = h;
            bool clipped = t + h >= stop || stop - (t + h) < 1e-10 * Math.Abs(stop);
            if (clipped) h = stop - t;
            if (h <= 16 * (Math.BitIncrement(Math.Abs(t)) - Math.Abs(t))) return OdeStatus.StepSizeTooSmall;
            if (++attempts > Options.MaxSteps) return OdeStatus.MaxStepsExceeded;

            double err = TryStep(system, h, attempts == 1 || !lastRejected);
            if (!(err <= 1))
            {
                RejectedSteps++;
                double shrink = double.IsFinite(err) ? Math.Max(MinFactor, Safety * Math.Pow(err, -0.25)) : RejectedNonFiniteFactor;
                h *= Math.Min(1.0, shrink);
                lastRejected = true;
                continue;
            }

            AcceptedSteps++;
            t = clipped ? stop : t + h;
            _y1.CopyTo(y);
            double grow = err == 0 ? MaxFactor : Math.Clamp(Safety * Math.Pow(err, -0.25), MinFactor, MaxFactor);
            if (lastRejected) grow = Math.Min(grow, 1.0);
            double hNext = h * grow;
            // A step cut short to land on a stop says little about the step the solution allows next.
            if (clipped) hNext = Math.Max(hNext, Math.Min(desired, h * MaxFactor));
            h = hNext;
            lastRejected = false;

            if (clipped)
            {
                if (next < outputTimes.Length)
                {
                    y.CopyTo(outputs.Slice(_n * next, _n));
                    next++;
                    while (next < outputTimes.Length && outputTimes[next] <= t) y.CopyTo(outputs.Slice(_n * next++, _n));
                }
                if (next == outputTimes.Length && t >= tEnd) return OdeStatus.Success;
            }
            system.Derivative(y, _f0);
        }
    }

    /// <summary>
    /// Takes <paramref name="steps"/> equal steps from (<paramref name="t0"/>, <paramref name="y0"/>) to
    /// <paramref name="t1"/> without error control and writes the final state into <paramref name="y1"/>; for
    /// measuring the convergence order. Returns false when a step is not finite or E is singular.
    /// </summary>
    public bool SolveFixed<TSystem>(in TSystem system, ReadOnlySpan<double> y0, double t0, double t1, int steps, Span<double> y1)
        where TSystem : struct, IOdeSystem
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        CheckShapes(system, y0, [], 0, t0, t1);
        if (y1.Length != _n) throw new ArgumentException($"The output state 'y1' must have length {_n}; received {y1.Length}.", nameof(y1));
        double h = (t1 - t0) / steps;
        y0.CopyTo(_y);
        for (int s = 0; s < steps; s++)
        {
            system.Derivative(_y, _f0);
            if (!double.IsFinite(TryStep(system, h, refreshJacobian: true))) return false;
            _y1.CopyTo(_y, 0);
        }
        _y.CopyTo(y1);
        return true;
    }

    private void CheckShapes<TSystem>(in TSystem system, ReadOnlySpan<double> y0, ReadOnlySpan<double> outputTimes, int outputLength,
        double t0, double tEnd) where TSystem : struct, IOdeSystem
    {
        if (system.Dimension != _n)
            throw new ArgumentException($"The system has dimension {system.Dimension}; this solver was created for dimension {_n}.", nameof(system));
        if (y0.Length != _n)
            throw new ArgumentException($"The initial state 'y0' must have length {_n}; received {y0.Length}.", nameof(y0));
        if (!double.IsFinite(t0) || !double.IsFinite(tEnd) || tEnd < t0)
            throw new ArgumentException($"The time span must be finite with tEnd ≥ t0; received t0 = {t0}, tEnd = {tEnd}.", nameof(tEnd));
        if (outputLength != outputTimes.Length * _n)
            throw new ArgumentException(
                $"The output buffer 'outputs' must have shape [{outputTimes.Length} × {_n}] = {outputTimes.Length * _n}; received length {outputLength}.", "outputs");
        for (int i = 0; i < outputTimes.Length; i++)
        {
            if (!(outputTimes[i] >= t0 && outputTimes[i] <= tEnd) || (i > 0 && outputTimes[i] < outputTimes[i - 1]))
                throw new ArgumentException(
                    $"The output times must be ascending within [t0, tEnd] = [{t0}, {tEnd}]; 'outputTimes'[{i}] = {outputTimes[i]}.", nameof(outputTimes));
        }
    }

    // Hairer, Nørsett & Wanner I, §II.4: an explicit Euler probe estimates the second derivative, and the first step
    // makes the local error of an order-4 method about 0.01 in the weighted norm. Uses _f0 = f(y0).
    private double InitialStep<TSystem>(in TSystem system, double t0, double tEnd) where TSystem : struct, IOdeSystem
    {
        double span = tEnd - t0;
        double rtol = Options.RelativeTolerance, atol = Options.AbsoluteTolerance;
        double d0 = 0, d1 = 0;
        for (int i = 0; i < _n; i++)
        {
            double scale = atol + rtol * Math.Abs(_y[i]);
            d0 += Square(_y[i] / scale);
            d1 += Square(_f0[i] / scale);
        }
        d0 = Math.Sqrt(d0 / _n);
        d1 = Math.Sqrt(d1 / _n);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        for (int i = 0; i < _n; i++) _stage[i] = _y[i] + h0 * _f0[i];
        system.Derivative(_stage, _f);
        double d2 = 0;
        for (int i = 0; i < _n; i++) d2 += Square((_f[i] - _f0[i]) / (atol + rtol * Math.Abs(_y[i])));
        d2 = Math.Sqrt(d2 / _n) / h0;
        double dmax = Math.Max(d1, d2);
        double h1 = !double.IsFinite(dmax) ? h0 * 1e-3 : dmax <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / dmax, 0.25);
        return Math.Min(Math.Min(100 * h0, h1), span);
    }

    /// <summary>
    /// One RODAS4 step of size <paramref name="h"/> from _y with _f0 = f(_y): the new state in _y1 and the weighted RMS
    /// of the error estimate (NaN when a stage is not finite or E is singular).
    /// </summary>
    private double TryStep<TSystem>(in TSystem system, double h, bool refreshJacobian) where TSystem : struct, IOdeSystem
    {
        int n = _n;
        if (refreshJacobian) system.Jacobian(_y, _jacobian);
        double diagonal = 1.0 / (h * Gamma);
        for (int i = 0; i < _lu.Length; i++) _lu[i] = -_jacobian[i];
        for (int i = 0; i < n; i++) _lu[i * n + i] += diagonal;
        if (!Factor()) return double.NaN;

        double[] y = _y, s = _stage, f = _f, r = _rhs, u1 = _u1, u2 = _u2, u3 = _u3, u4 = _u4, u5 = _u5, u6 = _u6;
        double inv = 1.0 / h;

        Array.Copy(_f0, r, n);
        SolveInPlace(r, u1);

        for (int i = 0; i < n; i++) s[i] = y[i] + A21 * u1[i];
        system.Derivative(s, f);
        for (int i = 0; i < n; i++) r[i] = f[i] + inv * C21 * u1[i];
        SolveInPlace(r, u2);

        for (int i = 0; i < n; i++) s[i] = y[i] + A31 * u1[i] + A32 * u2[i];
        system.Derivative(s, f);
        for (int i = 0; i < n; i++) r[i] = f[i] + inv * (C31 * u1[i] + C32 * u2[i]);
        SolveInPlace(r, u3);

        for (int i = 0; i < n; i++) s[i] = y[i] + A41 * u1[i] + A42 * u2[i] + A43 * u3[i];
        system.Derivative(s, f);
        for (int i = 0; i < n; i++) r[i] = f[i] + inv * (C41 * u1[i] + C42 * u2[i] + C43 * u3[i]);
        SolveInPlace(r, u4);

        for (int i = 0; i < n; i++) s[i] = y[i] + A51 * u1[i] + A52 * u2[i] + A53 * u3[i] + A54 * u4[i];
        system.Derivative(s, f);
        for (int i = 0; i < n; i++) r[i] = f[i] + inv * (C51 * u1[i] + C52 * u2[i] + C53 * u3[i] + C54 * u4[i]);
        SolveInPlace(r, u5);

        // Stiffly accurate: stage 6 is evaluated at the embedded (order-3) solution y₅ + u₅.
        for (int i = 0; i < n; i++) s[i] += u5[i];
        system.Derivative(s, f);
        for (int i = 0; i < n; i++) r[i] = f[i] + inv * (C61 * u1[i] + C62 * u2[i] + C63 * u3[i] + C64 * u4[i] + C65 * u5[i]);
        SolveInPlace(r, u6);

        double rtol = Options.RelativeTolerance, atol = Options.AbsoluteTolerance;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double next = s[i] + u6[i];
            if (!double.IsFinite(next)) return double.NaN;
            _y1[i] = next;
            double scale = atol + rtol * Math.Max(Math.Abs(y[i]), Math.Abs(next));
            sum += Square(u6[i] / scale);
        }
        double err = Math.Sqrt(sum / n);
        return double.IsFinite(err) ? err : double.NaN;
    }

    // LU factorisation of _lu in place with partial pivoting (Golub & Van Loan, Algorithm 3.4.1); false when singular
    // or not finite.
    private bool Factor()
    {
        int n = _n;
        double[] a = _lu;
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double max = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > max) { max = v; p = i; }
            }
            if (!(max > 0) || !double.IsFinite(max)) return false;
            _pivot[k] = p;
            if (p != k)
                for (int j = 0; j < n; j++) (a[k * n + j], a[p * n + j]) = (a[p * n + j], a[k * n + j]);
            double pivot = a[k * n + k];
            for (int i = k + 1; i < n; i++)
            {
                double l = a[i * n + k] / pivot;
                a[i * n + k] = l;
                if (l == 0) continue;
                for (int j = k + 1; j < n; j++) a[i * n + j] -= l * a[k * n + j];
            }
        }
        return true;
    }

    // Solves E·x = b with the factors of Factor(); b is overwritten (it holds the permuted right-hand side).
    private void SolveInPlace(double[] b, double[] x)
    {
        int n = _n;
        double[] a = _lu;
        for (int k = 0; k < n; k++)
        {
            int p = _pivot[k];
            if (p != k) (b[k], b[p]) = (b[p], b[k]);
        }
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int j = 0; j < i; j++) sum -= a[i * n + j] * b[j];
            b[i] = sum;
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = b[i];
            for (int j = i + 1; j < n; j++) sum -= a[i * n + j] * x[j];
            x[i] = sum / a[i * n + i];
        }
    }

    private static bool AllFinite(ReadOnlySpan<double> v)
    {
        foreach (double d in v)
            if (!double.IsFinite(d)) return false;
        return true;
    }

    private static double Square(double v) => v * v;
}
