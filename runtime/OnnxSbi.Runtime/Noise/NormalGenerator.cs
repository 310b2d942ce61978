using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

using OnnxSbi.Runtime.Numerics;

namespace OnnxSbi.Runtime.Noise;

/// <summary>
/// A fast, seeded generator of standard-normal and uniform float32 values, filling spans in bulk.
/// </summary>
/// <remarks>
/// <para>
/// Eight xoshiro256** generators (Blackman &amp; Vigna 2021) run side by side in vector lanes; each 64-bit
/// output gives one (u1, u2) pair for the Box–Muller transform (Box &amp; Muller 1958)
/// z1 = √(−2 ln u1)·cos 2πu2, z2 = √(−2 ln u1)·sin 2πu2, evaluated over blocks of 512 pairs with vector
/// code: the generators, sin/cos, the logarithm (<see cref="VectorMath"/>) and the square root in Vector256
/// lanes, in one pass compiled fully optimized from the first call (library vector routines start as slow
/// tier-0 code, which cost 66 ns per normal in short runs). u1 takes 31 bits and is shifted into (0, 1], so the largest
/// |z| is √(64 ln 2) ≈ 6.66 (the tail beyond has probability 3e-11).
/// </para>
/// <para>
/// Values are produced in blocks of 1,024 and handed out in order, so the sequence depends only on the
/// seed, the stream and the order of calls, never on how a request is split: <c>Fill(a); Fill(b)</c>
/// gives the same values as one <c>Fill</c> of both spans' length. Normals and uniforms are drawn from
/// separate blocks of the same generator. Bit-identical results are guaranteed on the same machine and
/// runtime; the transcendental kernels may round differently on other instruction sets.
/// </para>
/// <para>Not thread-safe: give each thread its own generator, e.g. from <see cref="ForStream"/>.</para>
/// </remarks>
internal sealed class NormalGenerator
{
    private const int BlockSize = 1024;
    private const int Half = BlockSize / 2;

    // Two groups of four lanes; stepping both per iteration hides the recurrence's latency.
    private Vector256<ulong> _a0, _a1, _a2, _a3, _b0, _b1, _b2, _b3;
    // Buffers for the part of a block a call does not take; allocated on first need (a sampler block of
    // 1,024 or more values is generated straight into its destination and never needs them).
    private float[]? _normals;
    private float[]? _uniforms;
    private int _normalPos = BlockSize;
    private int _uniformPos = BlockSize;

    /// <summary>Creates the generator of stream 0 for <paramref name="seed"/>.</summary>
    public NormalGenerator(ulong seed) : this(seed, 0) { }

    private NormalGenerator(ulong seed, ulong stream)
    {
        Seed = seed;
        Stream = stream;
        Span<ulong> w = stackalloc ulong[32];
        for (int lane = 0; lane < 8; lane++)
            Xoshiro256.SeedWords(seed, stream, lane, out w[lane], out w[8 + lane], out w[16 + lane], out w[24 + lane]);
        _a0 = Vector256.Create<ulong>(w[0..4]);
        _b0 = Vector256.Create<ulong>(w[4..8]);
        _a1 = Vector256.Create<ulong>(w[8..12]);
        _b1 = Vector256.Create<ulong>(w[12..16]);
        _a2 = Vector256.Create<ulong>(w[16..20]);
        _b2 = Vector256.Create<ulong>(w[20..24]);
        _a3 = Vector256.Create<ulong>(w[24..28]);
        _b3 = Vector256.Create<ulong>(w[28..32]);
    }

    /// <summary>
    /// The generator of stream <paramref name="stream"/> under <paramref name="seed"/>: different streams
    /// of one seed are independent sequences, so parallel workers can each take one and stay reproducible.
    /// Stream 0 is the sequence of <c>new NormalGenerator(seed)</c>.
    /// </summary>
    public static NormalGenerator ForStream(ulong seed, ulong stream) => new(seed, stream);

    /// <summary>The seed this generator was created from.</summary>
    public ulong Seed { get; }

    /// <summary>The stream index this generator was created for.</summary>
    public ulong Stream { get; }

    /// <summary>Fills <paramref name="destination"/> with independent N(0, 1) draws. Allocates nothing.</summary>
    public void Fill(Span<float> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_normalPos == BlockSize)
            {
                if (destination.Length >= BlockSize)
                {
                    NextNormalBlock(destination[..BlockSize]);
                    destination = destination[BlockSize..];
                    continue;
                }
                NextNormalBlock(_normals ??= new float[BlockSize]);
                _normalPos = 0;
            }
            int take = Math.Min(destination.Length, BlockSize - _normalPos);
            _normals!.AsSpan(_normalPos, take).CopyTo(destination);
            _normalPos += take;
            destination = destination[take..];
        }
    }

    /// <summary>Fills <paramref name="destination"/> with independent Uniform[0, 1) draws on a 2^-24 grid. Allocates nothing.</summary>
    public void FillUniform(Span<float> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_uniformPos == BlockSize)
            {
                if (destination.Length >= BlockSize)
                {
                    NextUniformBlock(destination[..BlockSize]);
                    destination = destination[BlockSize..];
                    continue;
                }
                NextUniformBlock(_uniforms ??= new float[BlockSize]);
                _uniformPos = 0;
            }
            int take = Math.Min(destination.Length, BlockSize - _uniformPos);
            _uniforms!.AsSpan(_uniformPos, take).CopyTo(destination);
            _uniformPos += take;
            destination = destination[take..];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void NextNormalBlock(Span<float> block)
    {
        Span<float> first = block[..Half];
        Span<float> second = block[Half..];
        var scale31 = Vector256.Create(1f / (1u << 31));
        var offset31 = Vector256.Create(0.5f / (1u << 31));
        var scale22 = Vector256.Create(MathF.PI / 2 / (1 << 22));
        var offset22 = Vector256.Create(-MathF.PI / 4);
        var lowMask = Vector256.Create(0x3FFFFFUL);
        for (int i = 0; i < Half; i += 8)
        {
            Vector256<ulong> x = Next(ref _a0, ref _a1, ref _a2, ref _a3);
            Vector256<ulong> y = Next(ref _b0, ref _b1, ref _b2, ref _b3);
            // u1 = (k + 1/2)·2^-31 from the top 31 bits: in (0, 1], so ln u1 is finite.
            var high = Vector256.Narrow(x >>> 33, y >>> 33).AsInt32();
            var u1 = Vector256.ConvertToSingle(high) * scale31 + offset31;
            // The angle 2πu2 as a uniform quadrant (bits 22–23) plus a uniform offset in [−π/4, π/4)
            // (bits 0–21): the same uniform angle, but the polynomial needs no argument reduction.
            var quadrant = Vector256.Narrow((x >>> 22) & Vector256.Create(3UL), (y >>> 22) & Vector256.Create(3UL)).AsInt32();
            var offset = Vector256.Narrow(x & lowMask, y & lowMask).AsInt32();
            var theta = Vector256.ConvertToSingle(offset) * scale22 + offset22;
            SinCosQuadrant(theta, quadrant, out var s, out var c);
            // Box–Muller: r = √(−2 ln u1); r·cos into the first half, r·sin into the second.
            var r = Vector256.Sqrt(VectorMath.Log(u1) * Vector256.Create(-2f));
            (r * c).StoreUnsafe(ref first[i]);
            (r * s).StoreUnsafe(ref second[i]);
        }
    }

    /// <summary>
    /// sin and cos of θ + q·π/2 for |θ| ≤ π/4 and q in 0..3. The Taylor polynomials through θ⁹ (sin) and
    /// θ⁸ (cos) are accurate to 3e-8 on that interval, below float32's half-ulp at 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCosQuadrant(Vector256<float> theta, Vector256<int> q, out Vector256<float> sin, out Vector256<float> cos)
    {
        var t2 = theta * theta;
        var sp = Vector256.Create(1f / 362880);
        sp = sp * t2 + Vector256.Create(-1f / 5040);
        sp = sp * t2 + Vector256.Create(1f / 120);
        sp = sp * t2 + Vector256.Create(-1f / 6);
        var s = theta + theta * t2 * sp;
        var cp = Vector256.Create(1f / 40320);
        cp = cp * t2 + Vector256.Create(-1f / 720);
        cp = cp * t2 + Vector256.Create(1f / 24);
        cp = cp * t2 + Vector256.Create(-0.5f);
        var c = Vector256<float>.One + t2 * cp;
        // Rotating by q quarter turns: odd q swaps sin and cos; sin flips sign for q in {2, 3}, cos for {1, 2}.
        var swap = Vector256.Equals(q & Vector256<int>.One, Vector256<int>.One).AsSingle();
        var sinSign = ((q & Vector256.Create(2)) << 30).AsSingle();
        var cosSign = (((q + Vector256<int>.One) & Vector256.Create(2)) << 30).AsSingle();
        sin = Vector256.ConditionalSelect(swap, c, s) ^ sinSign;
        cos = Vector256.ConditionalSelect(swap, s, c) ^ cosSign;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void NextUniformBlock(Span<float> block)
    {
        var scale = Vector256.Create(1f / (1 << 24));
        var mask = Vector256.Create(0xFFFFFFUL);
        for (int i = 0; i < BlockSize; i += 16)
        {
            Vector256<ulong> x = Next(ref _a0, ref _a1, ref _a2, ref _a3);
            Vector256<ulong> y = Next(ref _b0, ref _b1, ref _b2, ref _b3);
            // Two 24-bit uniforms per 64-bit output: bits 40–63 and bits 8–31.
            var top = Vector256.Narrow(x >>> 40, y >>> 40).AsInt32();
            var mid = Vector256.Narrow((x >>> 8) & mask, (y >>> 8) & mask).AsInt32();
            (Vector256.ConvertToSingle(top) * scale).StoreUnsafe(ref block[i]);
            (Vector256.ConvertToSingle(mid) * scale).StoreUnsafe(ref block[i + 8]);
        }
    }

    /// <summary>One xoshiro256** step in each of four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Next(ref Vector256<ulong> s0, ref Vector256<ulong> s1, ref Vector256<ulong> s2, ref Vector256<ulong> s3)
    {
        // result = rotl(s1·5, 7)·9, with the multiplications as shifts and adds (no 64-bit vector multiply on AVX2).
        var m5 = (s1 << 2) + s1;
        var rot = (m5 << 7) | (m5 >>> 57);
        var result = (rot << 3) + rot;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 45) | (s3 >>> 19);
        return result;
    }
}
