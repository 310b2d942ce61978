using System.IO.Compression;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// A shard of NumPy arrays, one per variable: the .npy files of one directory (the variable is the file stem) or the
/// members of one .npz archive (the variable is the member name). C-order arrays in plain files and stored (not
/// deflated) .npz members are read by row range with one seek; deflated members and Fortran-order arrays can only be
/// read whole, so such a shard is a single chunk.
/// </summary>
internal sealed class NpyShard : IShardReader
{
    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private readonly Member[] members;

    private NpyShard(string source, string[] variables, Member[] members, long rows)
    {
        Source = source;
        Variables = variables;
        this.members = members;
        Rows = rows;
    }

    public string Source { get; }

    public long Rows { get; }

    public IReadOnlyList<string> Variables { get; }

    private bool WholeOnly => members.Any(m => m.DataStart < 0 || (m.Header.FortranOrder && m.Header.Shape.Count > 1));

    public int[] SampleShape(int index) => members[index].Reshape ?? [.. members[index].Header.Shape.Skip(1).Select(d => checked((int)d))];

    public IReadOnlyList<long> ChunkStarts(int preferredRows)
    {
        if (WholeOnly) return [0];
        var starts = new List<long>();
        for (long s = 0; s < Rows; s += preferredRows) starts.Add(s);
        return starts;
    }

    /// <summary>Opens the .npy files <paramref name="files"/> (all in directory <paramref name="directory"/>) as one shard.</summary>
    public static NpyShard OpenDirectory(string directory, IReadOnlyList<string> files, IReadOnlyList<string> variables, IReadOnlyDictionary<string, int[]> shapes)
    {
        var byName = files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal);
        var found = new Member[variables.Count];
        for (int v = 0; v < variables.Count; v++)
        {
            if (!byName.TryGetValue(variables[v], out string? file))
                throw new DataFileException(directory, $"variable '{variables[v]}' is missing: expected {variables[v]}.npy beside {ColumnLayout.List(byName.Keys.Order(StringComparer.Ordinal).Select(n => n + ".npy").ToList())}.");
            using var stream = File.OpenRead(file);
            var header = NpyHeader.Read(stream, file);
            CheckComplete(file, header, stream.Length);
            found[v] = new Member(file, variables[v], header, 0, file);
        }
        return Create(directory, variables, found, shapes);
    }

    /// <summary>Opens an .npz archive as one shard.</summary>
    public static NpyShard OpenArchive(string path, IReadOnlyList<string> variables, IReadOnlyDictionary<string, int[]> shapes)
    {
        if (new FileInfo(path).Length == 0) throw new DataFileException(path, "the file is empty; expected a NumPy .npz archive.");
        var found = new Member[variables.Count];
        try
        {
            using var file = File.OpenRead(path);
            using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            var entries = zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)).ToDictionary(e => e.FullName[..^4], StringComparer.Ordinal);
            for (int v = 0; v < variables.Count; v++)
            {
                if (!entries.TryGetValue(variables[v], out var entry))
                    throw new DataFileException(path, $"variable '{variables[v]}' is missing: the archive holds {ColumnLayout.List(entries.Keys.ToList())}.");
                string source = $"{path} [{entry.FullName}]";
                using var member = entry.Open();
                var header = NpyHeader.Read(member, source);
                found[v] = new Member(source, variables[v], header, StoredDataStart(file, entry, header), path);
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, $"not a readable .npz archive ({e.Message}) — truncated, or not written by numpy.savez?", e);
        }
        return Create(path, variables, found, shapes);
    }

    public void Read(long start, int count, Memory<double>[] destinations)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the {Rows} rows of {Source}.");
        for (int v = 0; v < members.Length; v++)
        {
            if (destinations[v].IsEmpty) continue;
            var m = members[v];
            long width = m.Width;
            if (m.DataStart < 0 || (m.Header.FortranOrder && m.Header.Shape.Count > 1))
            {
                var whole = ReadWhole(m);
                whole.Data.AsSpan(checked((int)(start * width)), checked((int)(count * width))).CopyTo(destinations[v].Span);
                continue;
            }
            try
            {
                using var stream = new FileStream(m.File, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
                stream.Position = m.DataStart + m.Header.DataOffset + start * width * m.Header.ElementType.Size;
                NpyArray.ReadElements(stream, m.Header, destinations[v].Span[..checked((int)(count * width))], m.Source);
            }
            catch (IOException e)
            {
                throw new DataFileException(m.Source, $"variable '{m.Variable}': reading rows [{start}, {start + count}) failed: {e.Message}", e);
            }
        }
    }

    private static NpyArray ReadWhole(Member m)
    {
        if (m.DataStart >= 0)
        {
            using var file = File.OpenRead(m.File);
            return NpyArray.Read(file, m.Source);
        }
        try
        {
            using var zip = ZipFile.OpenRead(m.File);
            var entry = zip.GetEntry(m.Variable + ".npy") ?? throw new DataFileException(m.Source, $"variable '{m.Variable}' disappeared from the archive after it was opened.");
            using var member = entry.Open();
            return NpyArray.Read(member, m.Source);
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(m.Source, $"the compressed member cannot be read ({e.Message}) — a truncated or corrupt archive?", e);
        }
    }

    /// <summary>
    /// Where a stored (uncompressed) member's .npy stream starts in the archive file, or -1 for a deflated member.
    /// The framework's zip reader reads a stored member straight from the archive stream, so after the header has been
    /// read through it the file position is the member start plus the header length; the magic string is checked there.
    /// </summary>
    private static long StoredDataStart(FileStream file, ZipArchiveEntry entry, NpyHeader header)
    {
        if (entry.CompressedLength != entry.Length || entry.Length != header.DataOffset + header.DataBytes) return -1;
        long start = file.Position - header.DataOffset;
        if (start < 0) return -1;
        long keep = file.Position;
        Span<byte> magic = stackalloc byte[6];
        file.Position = start;
        bool ok = NpyHeader.ReadAtMost(file, magic) == 6 && magic.SequenceEqual(NpyMagic);
        file.Position = keep;
        return ok && start + entry.Length <= file.Length ? start : -1;
    }

    private static void CheckComplete(string file, NpyHeader header, long length)
    {
        long expected = header.DataOffset + header.DataBytes;
        if (length < expected)
            throw new DataFileException(file, $"the file is truncated: its header promises shape {NpyArray.Describe(header.Shape)} ({header.DataBytes} bytes of data), but it holds {Math.Max(0, length - header.DataOffset)} bytes (an interrupted copy or write?).");
    }

    private static NpyShard Create(string source, IReadOnlyList<string> variables, Member[] found, IReadOnlyDictionary<string, int[]> shapes)
    {
        for (int v = 0; v < found.Length; v++)
        {
            var m = found[v];
            if (m.Header.Shape.Count == 0)
                throw new DataFileException(m.Source, $"variable '{m.Variable}' is a 0-d array; expected shape (n, …) with one row per simulation.");
            if (m.Header.Count == 0 && m.Header.Shape[0] == 0)
                throw new DataFileException(m.Source, $"variable '{m.Variable}' is empty: shape {NpyArray.Describe(m.Header.Shape)} has no rows.");
            if (shapes.TryGetValue(m.Variable, out var option) && !option.SequenceEqual(m.Header.Shape.Skip(1).Select(d => (int)d)))
            {
                // NumPy arrays carry their own shape; a shape option may only reshape the per-row values.
                long width = m.Width;
                if (ColumnLayout.Width(option) != width)
                    throw new DataFileException(m.Source, $"variable '{m.Variable}': the shape option expects shape {ColumnLayout.Describe(option)}, found {NpyArray.Describe(m.Header.Shape)} ({width} values per row, not {ColumnLayout.Width(option)}).");
                found[v] = m with { Reshape = option };
            }
        }
        long rows = found[0].Header.Shape[0];
        for (int v = 1; v < found.Length; v++)
            if (found[v].Header.Shape[0] != rows)
                throw new DataFileException(source, $"mismatched row counts: variable '{found[0].Variable}' has shape {NpyArray.Describe(found[0].Header.Shape)} ({rows} rows) but variable '{found[v].Variable}' has shape {NpyArray.Describe(found[v].Header.Shape)} ({found[v].Header.Shape[0]} rows); expected ({rows}, …).");
        var shard = new NpyShard(source, [.. variables], found, rows);
        return shard;
    }

    /// <summary>One array: where it lives and where its data starts (-1: deflated, read whole).</summary>
    private sealed record Member(string Source, string Variable, NpyHeader Header, long DataStart, string File)
    {
        public int[]? Reshape { get; init; }

        public long Width => Header.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
    }
}
