namespace OnnxSbi.Runtime.Noise;

/// <summary>
/// Scalar xoshiro256** (Blackman &amp; Vigna 2021, "Scrambled linear pseudorandom number generators",
/// ACM TOMS 47(4)) with SplitMix64 seeding; the same recurrence <see cref="NormalGenerator"/> runs in
/// vector lanes. For places that need a few double-precision uniforms or integers, not bulk normals.
/// </summary>
public struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>The generator for lane <paramref name="lane"/> of stream <paramref name="stream"/> under <paramref name="seed"/>.</summary>
    public static Xoshiro256 Create(ulong seed, ulong stream, int lane = 0)
    {
        SeedWords(seed, stream, lane, out var s0, out var s1, out var s2, out var s3);
        return new Xoshiro256 { _s0 = s0, _s1 = s1, _s2 = s2, _s3 = s3 };
    }

    /// <summary>A generator started from explicit state words (not all zero), e.g. the reference test vectors.</summary>
    public static Xoshiro256 FromState(ulong s0, ulong s1, ulong s2, ulong s3)
        => new() { _s0 = s0, _s1 = s1, _s2 = s2, _s3 = s3 };

    /// <summary>
    /// The four state words of one lane: a SplitMix64 sequence (Steele, Lea &amp; Flood 2014) started from
    /// a key that mixes seed and stream, as the xoshiro authors recommend for seeding. Distinct
    /// (seed, stream, lane) triples give unrelated 256-bit states; overlapping subsequences of a period
    /// of 2^256 − 1 are then practically impossible.
    /// </summary>
    public static void SeedWords(ulong seed, ulong stream, int lane, out ulong s0, out ulong s1, out ulong s2, out ulong s3)
    {
        const ulong Golden = 0x9E3779B97F4A7C15UL;
        ulong key = Mix(Mix(seed) ^ Mix(stream + 0x632BE59BD9B4E019UL));
        ulong z = key + (ulong)lane * 4 * Golden;
        s0 = Mix(z += Golden);
        s1 = Mix(z += Golden);
        s2 = Mix(z += Golden);
        s3 = Mix(z + Golden);
        if ((s0 | s1 | s2 | s3) == 0) s0 = 1; // the all-zero state is the one fixed point of the recurrence
    }

    /// <summary>SplitMix64's output function (Stafford's "Mix13" variant).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) for bound &gt; 0, without modulo bias (Lemire 2019, "Fast random integer generation in an interval").</summary>
    public int NextInt(int bound)
    {
        uint range = (uint)bound;
        ulong m = (NextUInt64() >> 32) * range;
        if ((uint)m < range)
        {
            uint threshold = (0u - range) % range;
            while ((uint)m < threshold) m = (NextUInt64() >> 32) * range;
        }
        return (int)(m >> 32);
    }
}
