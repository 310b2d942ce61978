using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

using OnnxSbi.Runtime.Tests.Sampling;

namespace OnnxSbi.Runtime.Tests.Integrators;

/// <summary>dy/dt = −y + sin t per element; y(t) = (y(t0) − y_p(t0))·e^{−(t−t0)} + y_p(t), y_p = (sin t − cos t)/2.</summary>
internal sealed class DecayWithForcing : IOdeSystem
{
    public int Evaluations { get; private set; }
    public float LastTime { get; private set; } = float.NaN;
    public float MinTime { get; private set; } = float.PositiveInfinity;
    public float MaxTime { get; private set; } = float.NegativeInfinity;

    public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
    {
        Evaluations++;
        LastTime = t;
        MinTime = Math.Min(MinTime, t);
        MaxTime = Math.Max(MaxTime, t);
        float s = MathF.Sin(t);
        for (int i = 0; i < state.Length; i++) derivative[i] = -state[i] + s;
    }

    public static double Particular(double t) => 0.5 * (Math.Sin(t) - Math.Cos(t));

    public static double Exact(double y0, double t0, double t) => (y0 - Particular(t0)) * Math.Exp(-(t - t0)) + Particular(t);
}

/// <summary>
/// Rows (a, b) rotating at a time-dependent angular speed ω(t) = ω0·(1 + γ·t): da/dt = −ω(t)·b,
/// db/dt = ω(t)·a. The exact solution is a rotation by ω0·(t + γ·t²/2) from t = 0. With γ ≠ 0 the
/// field is non-autonomous, so the nodes c_i of a method matter, as they do for a flow-matching velocity.
/// </summary>
internal sealed class Rotation(double omega0, double gamma = 0.0) : IOdeSystem
{
    private readonly float _omega0 = (float)omega0;
    private readonly float _gamma = (float)gamma;

    public int Evaluations { get; private set; }

    public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
    {
        Evaluations++;
        float omega = _omega0 * (1f + _gamma * t);
        for (int i = 0; i < state.Length; i += 2)
        {
            float a = state[i], b = state[i + 1];
            derivative[i] = -omega * b;
            derivative[i + 1] = omega * a;
        }
    }

    public static (double A, double B) Exact(double a0, double b0, double angle)
        => (a0 * Math.Cos(angle) - b0 * Math.Sin(angle), a0 * Math.Sin(angle) + b0 * Math.Cos(angle));

    public double Angle(double t0, double t) => omega0 * ((t - t0) + 0.5 * gamma * (t * t - t0 * t0));
}

/// <summary>Wraps a system and cancels a token source after a given number of evaluations.</summary>
internal sealed class CancelAfter(IOdeSystem inner, int evaluations, CancellationTokenSource source) : IOdeSystem
{
    public int Evaluations { get; private set; }

    public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
    {
        inner.Evaluate(t, state, derivative);
        if (++Evaluations == evaluations) source.Cancel();
    }
}
