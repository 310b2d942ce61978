namespace OnnxSbi.Runtime.Integrators;

/// <summary>
/// The right-hand side dy/dt = f(t, y) of an ODE over a batch of states, e.g. the velocity field of a
/// flow-matching network. One call evaluates every row of the batch at the same time <c>t</c>.
/// </summary>
/// <remarks>
/// Evaluations are the expensive part of sampling (one network run each), so integrators call this as
/// few times as their method allows. Implementations must not keep the state or derivative spans
/// beyond the call: they point into the integrator's workspace and
/// are only valid until <see cref="Evaluate"/> returns.
/// </remarks>
internal interface IOdeSystem
{
    /// <summary>Writes f(<paramref name="t"/>, <paramref name="state"/>) into <paramref name="derivative"/> (same length as the state).</summary>
    void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative);
}
