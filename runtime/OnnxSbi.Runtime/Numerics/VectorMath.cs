using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OnnxSbi.Runtime.Numerics;

/// <summary>
/// exp and ln on <see cref="Vector{T}"/> lanes (and ln on <see cref="Vector256{T}"/>), built from the vector
/// operations the JIT expands inline, for the native coupling transforms and the normal generator. The library routines (TensorPrimitives, Vector256.Exp) are as accurate
/// but start as unoptimized tier-0 code that a short-lived or lightly used process may run for its whole
/// life, many times slower for the first thousands of calls (measured: docs/BENCHMARKS.md, "Native coupling
/// inverse"). Callers mark their loops
/// <see cref="MethodImplOptions.AggressiveOptimization"/>, so these inline into fully optimized code at once.
/// Both are accurate to a few float32 ulps (tested against <see cref="MathF"/>). Polynomials use
/// MultiplyAddEstimate: fused where the CPU has FMA, so the last bit may differ between machines.
/// </summary>
internal static class VectorMath
{
    private const float Log2E = 1.44269504088896341f;
    // ln 2 split so that n·Ln2Hi is exact for |n| ≤ 2^11 (Cody–Waite reduction).
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    /// <summary>e^x per lane; inputs are clamped to [−87.3, 88.3] (results from ~1e−38 to ~2e38).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x0)
    {
        var x = Vector.Min(Vector.Max(x0, new Vector<float>(-87.3f)), new Vector<float>(88.3f));
        // x = n·ln2 + r with |r| ≤ ln2/2; e^r from its degree-6 Taylor polynomial (error < 2e−8 there).
        var n = Vector.Round(x * new Vector<float>(Log2E));
        var r = x - n * new Vector<float>(Ln2Hi) - n * new Vector<float>(Ln2Lo);
        var p = new Vector<float>(1f / 720);
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1f / 120));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1f / 24));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1f / 6));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(0.5f));
        p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
        p = Vector.MultiplyAddEstimate(p, r, Vector<float>.One);
        // 2^n through the exponent field: n ∈ [−126, 127] here, so n + 127 is a valid biased exponent.
        var scale = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23));
        // NaN lanes stay NaN: Vector.Min and Max propagate NaN (IEEE 754-2019), and so does the arithmetic.
        return p * scale;
    }

    /// <summary>ln x per lane for positive, normal, finite x (the callers' arguments are ≥ 1, or uniforms in (0, 1]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Log(Vector<float> x)
    {
        // x = m·2^e with m ∈ [√½, √2); ln m = 2·atanh(t), t = (m − 1)/(m + 1), |t| ≤ 0.1716.
        var bits = Vector.AsVectorInt32(x);
        var e = Vector.ShiftRightArithmetic(bits, 23) - new Vector<int>(127);
        var m = Vector.AsVectorSingle((bits & new Vector<int>(0x007FFFFF)) | new Vector<int>(0x3F800000));
        var big = Vector.GreaterThan(m, new Vector<float>(1.41421356f));
        m = Vector.ConditionalSelect(big, m * new Vector<float>(0.5f), m);
        e = Vector.ConditionalSelect(big, e + Vector<int>.One, e);
        var t = (m - Vector<float>.One) / (m + Vector<float>.One);
        var t2 = t * t;
        // 2·(t + t³/3 + … + t⁹/9); the next term is below 4e−10.
        var s = new Vector<float>(2f / 9);
        s = Vector.MultiplyAddEstimate(s, t2, new Vector<float>(2f / 7));
        s = Vector.MultiplyAddEstimate(s, t2, new Vector<float>(2f / 5));
        s = Vector.MultiplyAddEstimate(s, t2, new Vector<float>(2f / 3));
        s = Vector.MultiplyAddEstimate(s, t2, new Vector<float>(2f));
        var ef = Vector.ConvertToSingle(e);
        var result = s * t + ef * new Vector<float>(Ln2Hi) + ef * new Vector<float>(Ln2Lo);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }

    /// <summary>ln x per lane of a <see cref="Vector256{T}"/>, the same algorithm as <see cref="Log(Vector{float})"/> (for the normal generator).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        var bits = x.AsInt32();
        var e = Vector256.ShiftRightArithmetic(bits, 23) - Vector256.Create(127);
        var m = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle();
        var big = Vector256.GreaterThan(m, Vector256.Create(1.41421356f));
        m = Vector256.ConditionalSelect(big, m * Vector256.Create(0.5f), m);
        e = Vector256.ConditionalSelect(big.AsInt32(), e + Vector256<int>.One, e);
        var t = (m - Vector256<float>.One) / (m + Vector256<float>.One);
        var t2 = t * t;
        var s = Vector256.Create(2f / 9);
        s = Vector256.MultiplyAddEstimate(s, t2, Vector256.Create(2f / 7));
        s = Vector256.MultiplyAddEstimate(s, t2, Vector256.Create(2f / 5));
        s = Vector256.MultiplyAddEstimate(s, t2, Vector256.Create(2f / 3));
        s = Vector256.MultiplyAddEstimate(s, t2, Vector256.Create(2f));
        var ef = Vector256.ConvertToSingle(e);
        var result = s * t + ef * Vector256.Create(Ln2Hi) + ef * Vector256.Create(Ln2Lo);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }
}
