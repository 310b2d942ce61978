using System.Numerics;

namespace OnnxSbi.Runtime.Integrators;

/// <summary>
/// Integrates a batch of states through an <see cref="IOdeSystem"/> with an explicit Runge–Kutta method,
/// with fixed steps (Euler, RK4) or an adaptive step size shared by the whole batch (Dopri5, Tsit5).
/// </summary>
/// <remarks>
/// The integrator owns its stage buffers: they are allocated the first time a state of a given length is
/// integrated (or a longer one than before) and reused afterwards, so the step loop allocates nothing.
/// Not thread-safe: give each concurrent caller its own instance.
/// The state and the stage derivatives are float32 like the network's tensors; each stage input and each
/// new state is summed in double and rounded once, and the adaptive error norm is accumulated in double so
/// that the RMS over many elements does not lose the small terms.
/// </remarks>
internal sealed class OdeIntegrator
{
    // Step-size controller constants (docs/algorithms.md#ode-integrators, BayesFlow 2.0.8+): h_new = h·0.9·err^(-1/5),
    // the factor clipped to [0.2, 5]. The exponent is 1/(q+1) for the embedded order q = 4.
    private const double Safety = 0.9;
    private const double MinFactor = 0.2;
    private const double MaxFactor = 5.0;
    private const double ErrorExponent = -1.0 / 5.0;

    private const int MaxStages = 7;

    private readonly ButcherTableau _tableau;
    private readonly int[] _termIndex = new int[MaxStages];
    private readonly int _rowWidth;
    private float[][] _k = [];
    private float[] _stage = [];
    private float[] _next = [];

    /// <summary>Creates an integrator for <paramref name="options"/> (validated here).</summary>
    /// <param name="options">Method, steps and tolerances.</param>
    /// <param name="rowWidth">
    /// Values per batch row (D): the state length must be a multiple of it, and error messages name the
    /// row of a bad value. 1 treats every value as its own row.
    /// </param>
    public OdeIntegrator(IntegratorOptions options, int rowWidth = 1)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (rowWidth < 1)
            throw new InvalidRequestException($"Argument 'rowWidth' must be at least 1; received {rowWidth}.");
        Options = options;
        _rowWidth = rowWidth;
        _tableau = ButcherTableau.For(options.Kind);
        // The adaptive loop reuses the last stage as the next first one and needs error weights.
        if (options.IsAdaptive && (!_tableau.Fsal || _tableau.E is null))
            throw new InvalidOperationException($"The adaptive method '{_tableau.Name}' must be an embedded FSAL pair.");
    }

    /// <summary>The options this integrator was created with.</summary>
    public IntegratorOptions Options { get; }

    /// <summary>
    /// Integrates <paramref name="state"/> in place from <paramref name="t0"/> to <paramref name="t1"/>
    /// (either direction). Cancellation is checked before every step.
    /// </summary>
    /// <exception cref="StepLimitExceededException">An adaptive method needed more than MaxSteps attempts.</exception>
    /// <exception cref="NonFiniteValueException">An adaptive step produced NaN or infinity.</exception>
    public IntegrationStats Integrate(IOdeSystem f, Span<float> state, float t0, float t1, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(f);
        ct.ThrowIfCancellationRequested();
        if (!float.IsFinite(t0) || !float.IsFinite(t1))
            throw new InvalidRequestException($"Integration times must be finite; received t0={t0}, t1={t1}.");
        if (state.Length % _rowWidth != 0)
            throw new ShapeMismatchException("state", $"[N, {_rowWidth}] (a multiple of {_rowWidth} values)", $"{state.Length} values");
        if (t0 == t1 || state.IsEmpty)
            return default;
        EnsureWorkspace(state.Length);
        return Options.IsAdaptive
            ? IntegrateAdaptive(f, state, t0, t1, ct)
            : IntegrateFixed(f, state, t0, t1, ct);
    }

    private void EnsureWorkspace(int length)
    {
        if (_stage.Length >= length) return;
        _k = new float[_tableau.Stages][];
        for (int i = 0; i < _k.Length; i++) _k[i] = new float[length];
        _stage = new float[length];
        _next = new float[length];
    }

    private IntegrationStats IntegrateFixed(IOdeSystem f, Span<float> y, double t0, double t1, CancellationToken ct)
    {
        int steps = Options.Steps;
        for (int s = 0; s < steps; s++)
        {
            ct.ThrowIfCancellationRequested();
            // Times from the step index, not by accumulation, so the last step ends exactly on t1.
            double t = t0 + (t1 - t0) * s / steps;
            double tNext = s == steps - 1 ? t1 : t0 + (t1 - t0) * (s + 1) / steps;
            double h = tNext - t;
            Evaluate(f, t, y, _k[0].AsSpan(0, y.Length));
            ComputeStages(f, y, t, h, firstStage: 1, lastStage: _tableau.Stages);
            Combine(_tableau.B, h, y, y);
        }
        return new IntegrationStats(steps, 0, steps * _tableau.Stages);
    }

    private IntegrationStats IntegrateAdaptive(IOdeSystem f, Span<float> y, double t0, double t1, CancellationToken ct)
    {
        var o = Options;
        ButcherTableau tab = _tableau;
        int n = y.Length;
        int last = tab.Stages - 1;
        double span = Math.Abs(t1 - t0);
        double direction = Math.Sign(t1 - t0);
        double hMax = span / o.MinSteps;
        // BayesFlow starts at the largest allowed step; the controller shrinks it if the first step fails.
        double h = hMax;
        double t = t0;
        int accepted = 0, rejected = 0, evaluations = 0;

        Span<float> next = _next.AsSpan(0, n);
        // The error buffer shares the stage buffer: stages are done before the error is formed.
        Span<float> error = _stage.AsSpan(0, n);
        Evaluate(f, t, y, _k[0].AsSpan(0, n));
        evaluations++;

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (accepted + rejected >= o.MaxSteps)
                throw new StepLimitExceededException(o.MaxSteps, accepted, rejected, t0, t1, t, h);

            double remaining = Math.Abs(t1 - t);
            // Clip the step to land exactly on t1; also absorb a leftover sliver that rounding would
            // otherwise turn into an extra, nearly empty step.
            bool isLast = h >= remaining || remaining - h <= 1e-10 * span;
            if (isLast) h = remaining;
            double hSigned = direction * h;

            ComputeStages(f, y, t, hSigned, firstStage: 1, lastStage: last);
            // FSAL: the last stage's input is the new solution y + h·Σ b_i k_i (b_s = 0, row s of A = b).
            Combine(tab.B, hSigned, y, next);
            double tNext = isLast ? t1 : t + hSigned;
            Evaluate(f, tNext, next, _k[last].AsSpan(0, n));
            evaluations += tab.Stages - 1;

            Combine(tab.E!, hSigned, ReadOnlySpan<float>.Empty, error);
            double err = ErrorNorm(error, y, next, o.Atol, o.Rtol);
            if (!double.IsFinite(err))
                ThrowNonFinite(next, tNext);

            if (err <= 1.0)
            {
                accepted++;
                t = tNext;
                next.CopyTo(y);
                (_k[0], _k[last]) = (_k[last], _k[0]);
                if (isLast) break;
                double factor = err == 0.0 ? MaxFactor : Math.Clamp(Safety * Math.Pow(err, ErrorExponent), MinFactor, MaxFactor);
                h = Math.Min(h * factor, hMax);
            }
            else
            {
                rejected++;
                h *= Math.Max(MinFactor, Safety * Math.Pow(err, ErrorExponent));
            }
        }
        return new IntegrationStats(accepted, rejected, evaluations);
    }

    /// <summary>Evaluates stages firstStage..lastStage−1 of a step of (signed) size h from (t, y).</summary>
    private void ComputeStages(IOdeSystem f, ReadOnlySpan<float> y, double t, double h, int firstStage, int lastStage)
    {
        int n = y.Length;
        Span<float> stage = _stage.AsSpan(0, n);
        for (int i = firstStage; i < lastStage; i++)
        {
            Combine(_tableau.A[i], h, y, stage);
            Evaluate(f, t + _tableau.C[i] * h, stage, _k[i].AsSpan(0, n));
        }
    }

    /// <summary>
    /// dst = y + Σ_j (h·w_j)·k_j (or just the sum when <paramref name="y"/> is empty), accumulated in
    /// double and rounded to float once. dst may be y itself.
    /// </summary>
    /// <remarks>
    /// Summing in float32 rounds after every term, and the large cancelling weights of Tsitouras' pair
    /// (Σ|b_i| ≈ 7.6 against 1.6 for Dormand–Prince) then set a round-off floor near 1e-5 on a unit
    /// rotation, above the error of a 5th-order step at practical step sizes. TensorPrimitives has no
    /// widening multiply-add, so this one fused pass widens to double with Vector&lt;T&gt; itself.
    /// </remarks>
    private void Combine(double[] weights, double h, ReadOnlySpan<float> y, Span<float> dst)
    {
        int n = dst.Length;
        int terms = 0;
        Span<double> w = stackalloc double[MaxStages];
        for (int j = 0; j < weights.Length; j++)
        {
            if (weights[j] == 0.0) continue;
            w[terms] = h * weights[j];
            _termIndex[terms++] = j;
        }
        bool hasBase = !y.IsEmpty;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= n - width; i += width)
            {
                Vector<double> lo, hi;
                if (hasBase) Vector.Widen(new Vector<float>(y.Slice(i)), out lo, out hi);
                else lo = hi = Vector<double>.Zero;
                for (int m = 0; m < terms; m++)
                {
                    Vector.Widen(new Vector<float>(_k[_termIndex[m]].AsSpan(i)), out var klo, out var khi);
                    var wm = new Vector<double>(w[m]);
                    lo += wm * klo;
                    hi += wm * khi;
                }
                Vector.Narrow(lo, hi).CopyTo(dst.Slice(i));
            }
        }
        for (; i < n; i++)
        {
            double acc = hasBase ? y[i] : 0.0;
            for (int m = 0; m < terms; m++) acc += w[m] * _k[_termIndex[m]][i];
            dst[i] = (float)acc;
        }
    }

    private static void Evaluate(IOdeSystem f, double t, ReadOnlySpan<float> state, Span<float> derivative)
        => f.Evaluate((float)t, state, derivative);

    /// <summary>
    /// RMS over all elements of err_i / (atol + rtol·max(|y_i|, |ŷ_i|)) (Hairer, Nørsett &amp; Wanner,
    /// Solving ODEs I, §II.4, eq. 4.11), accumulated in double.
    /// </summary>
    internal static double ErrorNorm(ReadOnlySpan<float> error, ReadOnlySpan<float> y, ReadOnlySpan<float> next, double atol, double rtol)
    {
        double sum = 0.0;
        for (int i = 0; i < error.Length; i++)
        {
            double scale = atol + rtol * Math.Max(Math.Abs((double)y[i]), Math.Abs((double)next[i]));
            double r = error[i] / scale;
            sum += r * r;
        }
        return Math.Sqrt(sum / error.Length);
    }

    private void ThrowNonFinite(ReadOnlySpan<float> next, double t)
    {
        for (int i = 0; i < next.Length; i++)
        {
            if (!float.IsFinite(next[i]))
                throw new NonFiniteValueException("state", i / _rowWidth, next[i], $"after an integration step to t={t:G6}");
        }
        // The state is finite but its error estimate overflowed: report it as such.
        throw new NonFiniteValueException("state", 0, double.PositiveInfinity, $"(error estimate) after an integration step to t={t:G6}");
    }
}
