using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks;

/// <summary>
/// The Lotka–Volterra predator–prey equations X′ = α·X − β·X·Y, Y′ = −γ·Y + δ·X·Y (sbibm's lotka_volterra task),
/// integrated in the logarithms u = log X, v = log Y: u′ = α − β·e^v, v′ = −γ + δ·e^u. The same ODE, but the
/// populations stay positive and the error control is relative, which matters for the deep troughs of prior-tail
/// parameters. The first integral V = δ·e^u − γ·u + β·e^v − α·v is constant along solutions.
/// </summary>
internal readonly struct LotkaVolterraSystem(double alpha, double beta, double gamma, double delta) : IOdeSystem
{
    public int Dimension => 2;

    public void Derivative(ReadOnlySpan<double> y, Span<double> dydt)
    {
        dydt[0] = alpha - beta * Math.Exp(y[1]);
        dydt[1] = delta * Math.Exp(y[0]) - gamma;
    }

    public void Jacobian(ReadOnlySpan<double> y, Span<double> j)
    {
        j[0] = 0;
        j[1] = -beta * Math.Exp(y[1]);
        j[2] = delta * Math.Exp(y[0]);
        j[3] = 0;
    }

    /// <summary>The first integral V(u, v) = δ·e^u − γ·u + β·e^v − α·v.</summary>
    public double FirstIntegral(double u, double v) => delta * Math.Exp(u) - gamma * u + beta * Math.Exp(v) - alpha * v;
}
