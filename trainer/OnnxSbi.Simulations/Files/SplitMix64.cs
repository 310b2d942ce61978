namespace OnnxSbi.Simulations.Files;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): a fixed,
/// documented generator, so a seed gives the same shuffle on every .NET version (System.Random's algorithm may change).
/// </summary>
internal struct SplitMix64(ulong state)
{
    private ulong state = state;

    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, <paramref name="n"/>) by Lemire's multiply-shift; the bias, at most n/2⁶⁴, is immaterial here.</summary>
    public int Below(int n) => (int)(((UInt128)Next() * (ulong)n) >> 64);

    /// <summary>Fisher–Yates (Durstenfeld) shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Below(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The SplitMix64 finalizer: a bijective avalanche mix of 64 bits.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for stream (<paramref name="a"/>, <paramref name="b"/>, <paramref name="c"/>) of the user's seed.</summary>
    public static ulong Derive(ulong seed, ulong a, ulong b = 0, ulong c = 0) =>
        Mix(Mix(Mix(Mix(seed) ^ a) ^ (b * 0xD1B54A32D192ED03UL)) ^ (c * 0x8CB92BA72F3D8DD7UL));
}
