namespace OnnxSbi.Tasks.Tests;

/// <summary>
/// Moments of a normal truncated to an interval by numerical integration, independent of the library's closed
/// forms: the tests' ground truth for the box-prior posteriors.
/// </summary>
internal static class Quadrature
{
    /// <summary>
    /// Mass, mean and variance of N(<paramref name="mean"/>, <paramref name="sd"/>²) restricted to [lower, upper],
    /// by composite Simpson's rule on <paramref name="intervals"/> intervals (even). The density is scaled by its
    /// largest value on the interval before integrating, so intervals far in a tail do not underflow; the log mass
    /// adds that scale back. Simpson's error is O(h⁴·f⁗); with h at most a tenth of the density's length scale
    /// (σ, or σ²/distance for an interval in a tail) the moments are accurate to about 10⁻⁷ relative.
    /// </summary>
    public static (double LogMass, double Mean, double Variance) TruncatedNormal(double mean, double sd, double lower, double upper, int intervals = 200_000)
    {
        double h = (upper - lower) / intervals;
        double nearest = Math.Clamp(mean, lower, upper);
        double logPeak = LogDensity(nearest);
        double m0 = 0, m1 = 0, m2 = 0;
        for (int i = 0; i <= intervals; i++)
        {
            double t = lower + i * h;
            double w = (i == 0 || i == intervals) ? 1 : (i % 2 == 1 ? 4 : 2);
            double f = w * Math.Exp(LogDensity(t) - logPeak);
            m0 += f;
            m1 += f * t;
            m2 += f * t * t;
        }
        double mu = m1 / m0;
        return (Math.Log(m0 * h / 3) + logPeak, mu, m2 / m0 - mu * mu);

        double LogDensity(double t) => -0.5 * ((t - mean) / sd) * ((t - mean) / sd) - Math.Log(sd * Math.Sqrt(2 * Math.PI));
    }
}
