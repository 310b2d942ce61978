using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Distributions;

/// <summary>
/// Independent log-normal coordinates: log θ_i ~ N(μ_i, σ_i²). The support is θ_i &gt; 0 for every i.
/// </summary>
internal sealed class LogNormalPrior
{
    private static readonly double LogSqrtTwoPi = 0.5 * Math.Log(2 * Math.PI);
    private readonly double[] _logMean;
    private readonly double[] _logStd;

    /// <summary>Creates the prior with location <paramref name="logMean"/> and scale <paramref name="logStd"/> of log θ.</summary>
    public LogNormalPrior(double[] logMean, double[] logStd)
    {
        if (logMean.Length != logStd.Length)
            throw new ArgumentException($"'logStd' must have the length of 'logMean' ({logMean.Length}); received {logStd.Length}.", nameof(logStd));
        _logMean = logMean;
        _logStd = logStd;
    }

    /// <summary>The number of coordinates.</summary>
    public int Dimension => _logMean.Length;

    /// <summary>μ: the mean of log θ, per coordinate.</summary>
    public ReadOnlySpan<double> LogMean => _logMean;

    /// <summary>σ: the standard deviation of log θ, per coordinate.</summary>
    public ReadOnlySpan<double> LogStd => _logStd;

    /// <summary>Writes one draw into <paramref name="theta"/>, coordinate by coordinate from <paramref name="random"/>.</summary>
    public void Sample(SimulationRandom random, Span<double> theta)
    {
        for (int i = 0; i < _logMean.Length; i++) theta[i] = Math.Exp(random.NextNormal(_logMean[i], _logStd[i]));
    }

    /// <summary>True when every coordinate is positive and finite.</summary>
    public bool InSupport(ReadOnlySpan<double> theta)
    {
        if (theta.Length != _logMean.Length) return false;
        foreach (double t in theta)
            if (!(t > 0) || !double.IsFinite(t)) return false;
        return true;
    }

    /// <summary>
    /// log p(θ) with respect to Lebesgue measure on θ: Σ_i [log N(log θ_i; μ_i, σ_i²) − log θ_i]; −∞ outside the support.
    /// </summary>
    public double LogDensity(ReadOnlySpan<double> theta)
    {
        if (!InSupport(theta)) return double.NegativeInfinity;
        double sum = 0;
        for (int i = 0; i < theta.Length; i++)
        {
            double log = Math.Log(theta[i]);
            double z = (log - _logMean[i]) / _logStd[i];
            sum += -0.5 * z * z - Math.Log(_logStd[i]) - LogSqrtTwoPi - log;
        }
        return sum;
    }
}
