using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Simulators;

/// <summary>
/// The random number generator a simulator hands to its steps: a <see cref="Random"/> (so every familiar
/// method works) whose sequence is a pure function of a 64-bit seed, on every platform and .NET
/// version. It is xoshiro256** (Blackman &amp; Vigna 2021, "Scrambled linear pseudorandom number
/// generators"), seeded through SplitMix64 so that nearby seeds (0, 1, 2, …) give unrelated streams.
/// Adds <see cref="NextUniform"/> and <see cref="NextNormal()"/>. Not thread-safe.
/// </summary>
public sealed class SimulationRandom : Random
{
    private Xoshiro256 _state;
    private double _spareNormal;
    private bool _hasSpareNormal;

    /// <summary>Creates the generator whose sequence is determined by <paramref name="seed"/>.</summary>
    public SimulationRandom(ulong seed) : base(0)
    {
        ulong x = seed;
        _state = Xoshiro256.FromState(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
    }

    // Steele, Lea & Flood 2014: a full-period 64-bit mixer, the seeding recommended for xoshiro; it
    // cannot produce the all-zero state from four consecutive outputs.
    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => _state.NextUInt64();

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform on [0, 1) with 24 random bits.</summary>
    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1U << 24));

    /// <summary>Uniform on [0, 1); the same as <see cref="NextDouble"/>.</summary>
    protected override double Sample() => NextDouble();

    /// <summary>Uniform on [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double NextUniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>
    /// A standard normal draw by the Box–Muller transform (Box &amp; Muller 1958); each pair of uniforms
    /// gives two draws, the second kept for the next call.
    /// </summary>
    public double NextNormal()
    {
        if (_hasSpareNormal)
        {
            _hasSpareNormal = false;
            return _spareNormal;
        }
        // 1 − U lies in (0, 1], so the logarithm is finite.
        double radius = Math.Sqrt(-2 * Math.Log(1 - NextDouble()));
        double angle = 2 * Math.PI * NextDouble();
        (double sin, double cos) = Math.SinCos(angle);
        _spareNormal = radius * sin;
        _hasSpareNormal = true;
        return radius * cos;
    }

    /// <summary>A normal draw with the given mean and standard deviation.</summary>
    public double NextNormal(double mean, double std) => mean + std * NextNormal();

    /// <summary>A non-negative integer below <see cref="int.MaxValue"/>, like <see cref="Random.Next()"/>.</summary>
    public override int Next()
    {
        while (true)
        {
            int r = (int)(NextUInt64() >> 33);
            if (r != int.MaxValue) return r;
        }
    }

    /// <summary>An integer in [0, <paramref name="maxValue"/>), or 0 when <paramref name="maxValue"/> is 0.</summary>
    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (int)NextBelow((ulong)maxValue);
    }

    /// <summary>An integer in [<paramref name="minValue"/>, <paramref name="maxValue"/>).</summary>
    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return (int)(minValue + (long)NextBelow((ulong)((long)maxValue - minValue)));
    }

    /// <summary>A non-negative integer below <see cref="long.MaxValue"/>.</summary>
    public override long NextInt64()
    {
        while (true)
        {
            long r = (long)(NextUInt64() >> 1);
            if (r != long.MaxValue) return r;
        }
    }

    /// <summary>An integer in [0, <paramref name="maxValue"/>).</summary>
    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (long)NextBelow((ulong)maxValue);
    }

    /// <summary>An integer in [<paramref name="minValue"/>, <paramref name="maxValue"/>).</summary>
    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return (long)((ulong)minValue + NextBelow((ulong)maxValue - (ulong)minValue));
    }

    /// <summary>Fills <paramref name="buffer"/> with random bytes.</summary>
    public override void NextBytes(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        NextBytes(buffer.AsSpan());
    }

    /// <summary>Fills <paramref name="buffer"/> with random bytes.</summary>
    public override void NextBytes(Span<byte> buffer)
    {
        while (buffer.Length >= 8)
        {
            BitConverter.TryWriteBytes(buffer, NextUInt64());
            buffer = buffer[8..];
        }
        if (buffer.Length > 0)
        {
            Span<byte> last = stackalloc byte[8];
            BitConverter.TryWriteBytes(last, NextUInt64());
            last[..buffer.Length].CopyTo(buffer);
        }
    }

    /// <summary>
    /// Uniform on [0, <paramref name="bound"/>) without modulo bias, by Lemire's multiply-and-reject
    /// (Lemire 2019, "Fast random integer generation in an interval"); 0 when the bound is 0.
    /// </summary>
    private ulong NextBelow(ulong bound)
    {
        if (bound == 0) return 0;
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0UL - bound) % bound;
            while (low < threshold) high = Math.BigMul(NextUInt64(), bound, out low);
        }
        return high;
    }
}
