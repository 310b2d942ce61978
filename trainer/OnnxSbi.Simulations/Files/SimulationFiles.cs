using System.Text.RegularExpressions;
using OnnxSbi.Runtime;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// A simulation data set on disk: shards of .npy, .npz, .parquet or .csv files, opened by paths, directories or glob
/// patterns, read by global row range. Opening reads only headers and metadata (and, for CSV, one pass that indexes
/// row offsets); rows are read on demand, so the data set may be larger than memory.
/// </summary>
/// <remarks>
/// Shards: every .npz, .parquet and .csv file is one shard; the .npy files of one directory form one shard (one array
/// per variable, named by the file stem). Shards are ordered by path (ordinal), which fixes the global row numbering.
/// Every shard must hold every requested variable with the same per-row shape. The instance holds no open file and is
/// safe to read from several threads.
/// </remarks>
public sealed class SimulationFiles
{
    private static readonly string[] Extensions = [".npy", ".npz", ".parquet", ".csv"];
    private readonly IShardReader[] shards;
    private readonly long[] shardStarts;
    private readonly int[][] shapes;

    private SimulationFiles(IShardReader[] shards, IReadOnlyList<string> variables, SimulationFileOptions options)
    {
        this.shards = shards;
        Variables = [.. variables];
        Options = options;
        shardStarts = new long[shards.Length + 1];
        for (int s = 0; s < shards.Length; s++) shardStarts[s + 1] = shardStarts[s] + shards[s].Rows;
        shapes = [.. Enumerable.Range(0, variables.Count).Select(shards[0].SampleShape)];
        for (int s = 1; s < shards.Length; s++)
            for (int v = 0; v < variables.Count; v++)
                if (!shards[s].SampleShape(v).SequenceEqual(shapes[v]))
                    throw new DataFileException(shards[s].Source, $"variable '{variables[v]}' has shape {ColumnLayout.Describe(shards[s].SampleShape(v), shards[s].Rows)}, but {shards[0].Source} has {ColumnLayout.Describe(shapes[v], shards[0].Rows)}; expected {ColumnLayout.Describe(shapes[v])} per row in every shard.");
        var chunks = new List<Chunk>();
        for (int s = 0; s < shards.Length; s++)
        {
            var starts = shards[s].ChunkStarts(options.ChunkRows);
            for (int c = 0; c < starts.Count; c++)
            {
                long end = c + 1 < starts.Count ? starts[c + 1] : shards[s].Rows;
                chunks.Add(new Chunk(shardStarts[s] + starts[c], checked((int)(end - starts[c]))));
            }
        }
        Chunks = chunks;
    }

    /// <summary>The requested variables, in request order.</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>The shards' sources (files, or directories of .npy files), in global row order.</summary>
    public IReadOnlyList<string> Shards => [.. shards.Select(s => s.Source)];

    /// <summary>Rows (simulations) in all shards together.</summary>
    public long Rows => shardStarts[^1];

    /// <summary>The options the data set was opened with.</summary>
    public SimulationFileOptions Options { get; }

    /// <summary>Contiguous row ranges that are read as a unit when shuffling (row groups, ≈<see cref="SimulationFileOptions.ChunkRows"/>-row pieces, whole compressed shards), in global order.</summary>
    internal IReadOnlyList<Chunk> Chunks { get; }

    /// <summary>The per-row shape of <paramref name="variable"/> (empty for a scalar per row).</summary>
    /// <exception cref="UnknownVariableException">The variable was not requested when opening.</exception>
    public IReadOnlyList<int> SampleShape(string variable)
    {
        int v = Array.IndexOf(Variables as string[] ?? [.. Variables], variable);
        return v >= 0 ? shapes[v] : throw new UnknownVariableException(variable, Variables, "data-file variable");
    }

    /// <summary>
    /// Opens the data set named by <paramref name="paths"/>: files, directories (every data file below them; names
    /// starting with '_' or '.', such as Spark's _SUCCESS, are skipped) or glob patterns ('*' and '?' within a name,
    /// '**' for any number of directories).
    /// </summary>
    /// <param name="paths">The files, directories or patterns.</param>
    /// <param name="variables">The variables to read (array names, or column names / column prefixes).</param>
    /// <param name="options">Shape options and chunking; <see cref="SimulationFileOptions.Default"/> when null.</param>
    /// <exception cref="DataFileException">A path matches nothing, or a shard lacks a variable, has mismatched row counts, a non-numeric column or another shape than the first shard.</exception>
    public static SimulationFiles Open(IReadOnlyList<string> paths, IReadOnlyList<string> variables, SimulationFileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(variables);
        options ??= SimulationFileOptions.Default;
        options.Validate();
        if (paths.Count == 0) throw new ArgumentException("No data paths were given.", nameof(paths));
        if (variables.Count == 0) throw new ArgumentException("No variables were requested.", nameof(variables));
        if (variables.Distinct(StringComparer.Ordinal).Count() != variables.Count) throw new ArgumentException($"Variables are requested twice: {string.Join(", ", variables)}.", nameof(variables));
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string p in paths) files.UnionWith(Expand(p));
        var shardList = new List<(string Source, Func<IShardReader> Open)>();
        foreach (var group in files.Where(f => Ext(f) == ".npy").GroupBy(f => Path.GetDirectoryName(Path.GetFullPath(f))!, StringComparer.Ordinal))
        {
            var members = group.ToList();
            shardList.Add((group.Key, () => NpyShard.OpenDirectory(group.Key, members, variables, options.Shapes)));
        }
        foreach (string f in files.Where(f => Ext(f) != ".npy"))
            shardList.Add((Path.GetFullPath(f), Ext(f) switch
            {
                ".npz" => () => NpyShard.OpenArchive(f, variables, options.Shapes),
                ".parquet" => () => ParquetShard.Open(f, variables, options.Shapes),
                _ => () => CsvShard.Open(f, variables, options.Shapes),
            }));
        var shards = shardList.OrderBy(s => s.Source, StringComparer.Ordinal).Select(s => s.Open()).ToArray();
        return new SimulationFiles(shards, variables, options);
    }

    /// <summary>Reads global rows [<paramref name="start"/>, <paramref name="start"/>+<paramref name="count"/>) of every variable.</summary>
    /// <exception cref="DataFileException">A shard's data is ragged, non-numeric or truncated.</exception>
    public ArrayBatch Read(long start, int count)
    {
        var data = Variables.Select((_, v) => new double[(long)count * ColumnLayout.Width(shapes[v])]).ToArray();
        ReadInto(start, count, data, 0);
        var batch = new ArrayBatch(count);
        for (int v = 0; v < Variables.Count; v++) batch.Set(Variables[v], data[v], shapes[v]);
        return batch;
    }

    /// <summary>Values per row of each variable, in <see cref="Variables"/> order.</summary>
    internal int[] Widths => [.. shapes.Select(ColumnLayout.Width)];

    internal int[][] SampleShapes => shapes;

    /// <summary>Reads global rows [start, start+count) into <paramref name="destinations"/> (one per variable) from row <paramref name="atRow"/> on.</summary>
    internal void ReadInto(long start, int count, double[][] destinations, int atRow)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the {Rows} rows of the data set.");
        var widths = Widths;
        int s = Array.BinarySearch(shardStarts, start);
        if (s < 0) s = ~s - 1;
        while (s < shards.Length && shardStarts[s + 1] == shardStarts[s]) s++;
        int done = 0;
        var slices = new Memory<double>[destinations.Length];
        while (done < count)
        {
            long local = start + done - shardStarts[s];
            int take = (int)Math.Min(count - done, shards[s].Rows - local);
            for (int v = 0; v < slices.Length; v++)
                slices[v] = destinations[v] is null ? Memory<double>.Empty : destinations[v].AsMemory((atRow + done) * widths[v], take * widths[v]);
            shards[s].Read(local, take, slices);
            done += take;
            s++;
        }
    }

    private static string Ext(string path) => Path.GetExtension(path).ToLowerInvariant();

    private static bool IsData(string path) =>
        Extensions.Contains(Ext(path)) && !Path.GetFileName(path).StartsWith('_') && !Path.GetFileName(path).StartsWith('.');

    private static IEnumerable<string> Expand(string pattern)
    {
        if (pattern.IndexOfAny(['*', '?']) < 0)
        {
            if (Directory.Exists(pattern))
            {
                var found = Directory.EnumerateFiles(pattern, "*", SearchOption.AllDirectories).Where(IsData).ToList();
                return found.Count > 0 ? found : throw new DataFileException(pattern, $"the directory holds no data files ({string.Join(", ", Extensions)}).");
            }
            if (File.Exists(pattern))
                return Extensions.Contains(Ext(pattern)) ? [pattern] : throw new DataFileException(pattern, $"unknown data file type '{Path.GetExtension(pattern)}'; expected {string.Join(", ", Extensions)}.");
            throw new DataFileException(pattern, "no such file or directory.");
        }
        // The root is the longest leading run of segments without wildcards; the rest is matched against paths below it.
        string normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        int fixedCount = segments.TakeWhile(s => s.IndexOfAny(['*', '?']) < 0).Count();
        string root = fixedCount == 0 ? "." : string.Join('/', segments[..fixedCount]);
        if (root.Length == 0) root = "/";
        string rest = string.Join('/', segments[fixedCount..]);
        var regex = new Regex("^" + Regex.Escape(rest).Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal).Replace(@"\*\*", ".*", StringComparison.Ordinal)
            .Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$");
        var matches = new List<string>();
        if (Directory.Exists(root))
            foreach (string entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(root, entry).Replace('\\', '/');
                if (!regex.IsMatch(relative)) continue;
                if (Directory.Exists(entry)) matches.AddRange(Directory.EnumerateFiles(entry, "*", SearchOption.AllDirectories).Where(IsData));
                else if (IsData(entry)) matches.Add(entry);
            }
        return matches.Count > 0 ? matches : throw new DataFileException(pattern, "the pattern matches no data files.");
    }
}

/// <summary>Global rows [Start, Start+Rows) read as a unit when shuffling.</summary>
internal readonly record struct Chunk(long Start, int Rows);
