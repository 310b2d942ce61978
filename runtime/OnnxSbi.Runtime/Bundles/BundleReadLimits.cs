namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// Upper bounds the reader enforces before it allocates, so a crafted or corrupt bundle (a zip bomb,
/// a central directory with thousands of entries) fails fast instead of exhausting memory.
/// </summary>
/// <param name="MaxEntryBytes">The largest uncompressed size of any one entry that is read.</param>
/// <param name="MaxTotalBytes">The largest uncompressed size of all entries read, together.</param>
/// <param name="MaxEntries">The most entries the archive may hold.</param>
public sealed record BundleReadLimits(long MaxEntryBytes = 512L << 20, long MaxTotalBytes = 1L << 30, int MaxEntries = 64)
{
    /// <summary>The limits used when none are given: 512 MiB per entry, 1 GiB in all, 64 entries.</summary>
    public static BundleReadLimits Default { get; } = new();
}
