using System.Runtime.CompilerServices;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>A scalar function, as a struct so that the generic kernels below are specialized and inlined.</summary>
internal interface IScalarMap
{
    double Apply(double x);
}

/// <summary>Loops over whole arrays that the element-wise transforms share; they allocate nothing.</summary>
internal static class ElementwiseKernels
{
    /// <summary>
    /// Replaces each value by its image. Stops at the first value whose image is not finite, leaving it
    /// unchanged so the caller can report it, and returns its index; returns -1 when all were finite.
    /// </summary>
    public static int MapInPlace<TMap>(Span<double> data, TMap map) where TMap : struct, IScalarMap
    {
        for (int i = 0; i < data.Length; i++)
        {
            double y = map.Apply(data[i]);
            if (!double.IsFinite(y)) return i;
            data[i] = y;
        }
        return -1;
    }

    /// <summary>Adds Σ_j map(data[r, j]) to <paramref name="rowSums"/>[r] for every row r.</summary>
    public static void AddRowSums<TMap>(ReadOnlySpan<double> data, int width, Span<double> rowSums, TMap map)
        where TMap : struct, IScalarMap
    {
        if (width == 0) return;
        for (int r = 0, o = 0; r < rowSums.Length; r++, o += width)
        {
            double s = 0;
            for (int j = 0; j < width; j++) s += map.Apply(data[o + j]);
            rowSums[r] += s;
        }
    }

    /// <summary>log(1 + e^y) without overflow for large y or loss of precision for very negative y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Softplus(double y) => Math.Max(y, 0) + Log1p(Math.Exp(-Math.Abs(y)));

    /// <summary>
    /// The inverse of softplus, log(e^x − 1), written as x + log(1 − e^−x) so that it neither overflows
    /// for large x nor loses precision for small x. Not finite for x ≤ 0, which is outside its domain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double InverseSoftplus(double x) => x + Math.Log(-Expm1(-x));

    /// <summary>1 / (1 + e^−y), evaluated on the side where the exponential cannot overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sigmoid(double y)
    {
        if (y >= 0) return 1 / (1 + Math.Exp(-y));
        double e = Math.Exp(y);
        return e / (1 + e);
    }

    /// <summary>log(p / (1 − p)); log1p keeps precision for p near 0. Not finite outside (0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Logit(double p) => Math.Log(p) - Log1p(-p);

    /// <summary>
    /// log(1 + x), accurate for small |x|. .NET's double.LogP1 evaluates log(x + 1) directly, which
    /// loses every digit of x below 1e−16; this uses Goldberg's correction (Goldberg 1991, "What every
    /// computer scientist should know about floating-point arithmetic", Theorem 4): the rounding of
    /// u = 1 + x is compensated by the factor x / (u − 1).
    /// </summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        if (double.IsPositiveInfinity(u)) return u;
        return Math.Log(u) * (x / (u - 1));
    }

    /// <summary>e^x − 1, accurate for small |x|, by Kahan's analogue of the trick in <see cref="Log1p"/>.</summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1 || double.IsPositiveInfinity(u)) return um1;
        return um1 * (x / Math.Log(u));
    }
}
