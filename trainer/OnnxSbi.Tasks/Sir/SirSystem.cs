using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks;

/// <summary>
/// The SIR epidemic in absolute counts (Kermack &amp; McKendrick 1927; sbibm's sir task): S′ = −β·S·I/N,
/// I′ = β·S·I/N − γ·I, R′ = γ·I, state (S, I, R). S + I + R = N is a linear invariant.
/// </summary>
internal readonly struct SirSystem(double beta, double gamma) : IOdeSystem
{
    public int Dimension => 3;

    public void Derivative(ReadOnlySpan<double> y, Span<double> dydt)
    {
        double infection = beta * y[0] * y[1] / Sir.Population;
        double recovery = gamma * y[1];
        dydt[0] = -infection;
        dydt[1] = infection - recovery;
        dydt[2] = recovery;
    }

    public void Jacobian(ReadOnlySpan<double> y, Span<double> j)
    {
        double bs = beta * y[0] / Sir.Population, bi = beta * y[1] / Sir.Population;
        j[0] = -bi; j[1] = -bs; j[2] = 0;
        j[3] = bi; j[4] = bs - gamma; j[5] = 0;
        j[6] = 0; j[7] = gamma; j[8] = 0;
    }
}
