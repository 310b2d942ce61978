namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// The CRC-32 a zip records for each entry (PKWARE APPNOTE 4.4.7: the reflected polynomial
/// 0xEDB88320, initial value and final XOR 0xFFFFFFFF). ZipArchive does not verify it when an entry
/// is read, and the manifest and model card have no other checksum, so the reader checks it.
/// </summary>
internal static class ZipCrc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
