using System.IO.Compression;

namespace OnnxSbi.Simulations.Formats;

/// <summary>
/// NumPy <c>.npz</c> archives (<c>numpy.savez</c> and <c>savez_compressed</c>): a zip of <c>NAME.npy</c> members, stored or
/// deflated. Read with the framework's zip reader; only the .npy members are hand-parsed (<see cref="NpyHeader"/>).
/// </summary>
public static class NpzArchive
{
    /// <summary>Every array of the archive, by name (the member name without ".npy"), in archive order.</summary>
    /// <param name="stream">The archive; it must be seekable (a file or a memory stream).</param>
    /// <param name="source">The file (or "simulator response") named in errors.</param>
    /// <exception cref="DataFileException">Not a zip, a member that is not a numeric .npy, or a truncated archive.</exception>
    public static IReadOnlyDictionary<string, NpyArray> Read(Stream stream, string source)
    {
        if (stream.CanSeek && stream.Length == 0) throw new DataFileException(source, "the file is empty; expected a NumPy .npz archive.");
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                using var member = entry.Open();
                arrays[name] = NpyArray.Read(member, $"{source} [{entry.FullName}]");
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(source, $"not a readable .npz archive ({e.Message}) — truncated, or not written by numpy.savez?", e);
        }
        return arrays;
    }

    /// <summary>Reads a whole .npz file.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>The shapes of the archive's arrays without reading their data (each member is read only up to its header).</summary>
    public static IReadOnlyDictionary<string, NpyHeader> ReadHeaders(string path)
    {
        var headers = new Dictionary<string, NpyHeader>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var member = entry.Open();
                headers[entry.FullName[..^4]] = NpyHeader.Read(member, $"{path} [{entry.FullName}]");
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, $"not a readable .npz archive ({e.Message}) — truncated, or not written by numpy.savez?", e);
        }
        return headers;
    }

    /// <summary>Writes <paramref name="arrays"/> as an archive numpy.load reads, float64 members, stored or deflated.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = false)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, array) in arrays)
        {
            var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Fastest : CompressionLevel.NoCompression);
            using var member = entry.Open();
            array.Write(member);
        }
    }
}
