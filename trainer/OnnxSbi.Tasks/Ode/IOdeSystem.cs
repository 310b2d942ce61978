namespace OnnxSbi.Tasks.Ode;

/// <summary>
/// An autonomous system of ordinary differential equations y′ = f(y) with its Jacobian, as
/// <see cref="Rodas4Solver"/> integrates it. Implement it on a struct so that the solver's generic methods are
/// specialised for the system and its calls are inlined.
/// </summary>
internal interface IOdeSystem
{
    /// <summary>The length n of the state vector.</summary>
    int Dimension { get; }

    /// <summary>Writes f(<paramref name="y"/>) into <paramref name="dydt"/>; both have length <see cref="Dimension"/>.</summary>
    void Derivative(ReadOnlySpan<double> y, Span<double> dydt);

    /// <summary>
    /// Writes the Jacobian ∂f/∂y at <paramref name="y"/> into <paramref name="jacobian"/>, row-major [n × n]:
    /// entry i·n + j is ∂f_i/∂y_j.
    /// </summary>
    void Jacobian(ReadOnlySpan<double> y, Span<double> jacobian);
}
