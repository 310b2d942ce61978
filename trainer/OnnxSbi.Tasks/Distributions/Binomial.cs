using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Distributions;

/// <summary>
/// The binomial distribution Binomial(n, p): exact draws and the log probability mass. The runtime's
/// <see cref="SimulationRandom"/> has uniform and normal draws only, so the tasks sample counts here.
/// </summary>
/// <remarks>
/// Sampling is exact (no normal approximation). With p' = min(p, 1 − p) (and the count mirrored when p &gt; ½):
/// for n·p' &lt; 10 by inversion, a sequential search of the CDF from 0 with the pmf recurrence
/// P(k+1) = P(k)·(n − k)/(k + 1)·p'/(1 − p') (Devroye 1986, Non-Uniform Random Variate Generation, §X.4);
/// otherwise by Hörmann's BTRS, transformed rejection with squeeze (W. Hörmann 1993, "The generation of binomial
/// random variates", J. Statist. Comput. Simul. 46, 101–110), whose acceptance test compares against the exact
/// log pmf, so the draws follow Binomial(n, p) exactly.
/// </remarks>
internal static class Binomial
{
    private const double InversionLimit = 10;

    /// <summary>A draw of Binomial(<paramref name="n"/>, <paramref name="p"/>) from <paramref name="random"/>.</summary>
    public static int Sample(SimulationRandom random, int n, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The success probability must lie in [0, 1].");
        if (p > 0.5) return n - Sample(random, n, 1 - p);
        if (n == 0 || p == 0) return 0;
        return n * p < InversionLimit ? Inversion(random, n, p) : Btrs(random, n, p);
    }

    private static int Inversion(SimulationRandom random, int n, double p)
    {
        double q = 1 - p, odds = p / q;
        // n·p < 10 and p ≤ ½ bound q^n below by e^(−20), far from underflow.
        double mass = Math.Exp(n * LogOnePlus(-p));
        double u = random.NextDouble();
        int k = 0;
        while (u > mass && k < n)
        {
            u -= mass;
            mass *= (n - k) * odds / (k + 1);
            k++;
        }
        return k;
    }

    private static int Btrs(SimulationRandom random, int n, double p)
    {
        // Hörmann 1993, algorithm BTRS: the hat is a transformed Cauchy-like density centred at n·p + ½ whose
        // parameters a, b, c were fitted by the author; v_r bounds the squeeze region where acceptance is certain.
        double q = 1 - p;
        double spq = Math.Sqrt(n * p * q);
        double b = 1.15 + 2.53 * spq;
        double a = -0.0873 + 0.0248 * b + 0.01 * p;
        double c = n * p + 0.5;
        double vr = 0.92 - 4.2 / b;
        double alpha = (2.83 + 5.1 / b) * spq;
        double lpq = Math.Log(p / q);
        int m = (int)Math.Floor((n + 1) * p);
        double h = LogFactorial(m) + LogFactorial(n - m);
        while (true)
        {
            double u = random.NextDouble() - 0.5;
            double v = random.NextDouble();
            double us = 0.5 - Math.Abs(u);
            double kd = Math.Floor((2 * a / us + b) * u + c);
            if (kd < 0 || kd > n) continue;
            int k = (int)kd;
            if (us >= 0.07 && v <= vr) return k;
            v = Math.Log(v * alpha / (a / (us * us) + b));
            if (v <= h - LogFactorial(k) - LogFactorial(n - k) + (k - m) * lpq) return k;
        }
    }

    /// <summary>
    /// log P(X = <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>): −∞ when
    /// <paramref name="k"/> is not an integer in [0, n], and when p = 0 with k &gt; 0 or p = 1 with k &lt; n.
    /// </summary>
    public static double LogProbability(double k, int n, double p)
    {
        if (!(k >= 0 && k <= n) || k != Math.Floor(k)) return double.NegativeInfinity;
        int j = (int)k;
        double logChoose = LogFactorial(n) - LogFactorial(j) - LogFactorial(n - j);
        double successes = j == 0 ? 0 : j * Math.Log(p);
        double failures = j == n ? 0 : (n - j) * LogOnePlus(-p);
        return logChoose + successes + failures;
    }

    // 0!…15! are exact in double, so their logarithms are correctly rounded.
    private static readonly double[] SmallLogFactorials = MakeSmallLogFactorials();

    private static double[] MakeSmallLogFactorials()
    {
        var table = new double[16];
        double factorial = 1;
        for (int i = 1; i < table.Length; i++)
        {
            factorial *= i;
            table[i] = Math.Log(factorial);
        }
        return table;
    }

    /// <summary>log k! for k ≥ 0: a table below 16, Stirling's series beyond (error below 10⁻¹⁵ relative).</summary>
    public static double LogFactorial(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k < SmallLogFactorials.Length) return SmallLogFactorials[k];
        // log k! = (k + ½)·log k − k + ½·log 2π + 1/(12k) − 1/(360k³) + 1/(1260k⁵) − 1/(1680k⁷) + O(k⁻⁹)
        // (Abramowitz & Stegun 6.1.41); at k = 16 the next term is below 10⁻¹³, a relative 4·10⁻¹⁵ of log 16!.
        double x = k, inv = 1 / x, inv2 = inv * inv;
        double series = inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)));
        return (x + 0.5) * Math.Log(x) - x + 0.5 * Math.Log(2 * Math.PI) + series;
    }

    /// <summary>log(1 + <paramref name="x"/>) without the cancellation of Math.Log(1 + x) for small |x| (Goldberg 1991, Thm 4).</summary>
    internal static double LogOnePlus(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }
}
