using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// One shard of a simulation data set (an .npz, .parquet or .csv file, or a directory of .npy files): its rows, the
/// requested variables' per-row shapes, and random access to a contiguous row range. A reader holds no open file
/// between calls, so reads of different ranges may run concurrently (the window prefetch does).
/// </summary>
internal interface IShardReader
{
    /// <summary>The file or directory named in errors.</summary>
    string Source { get; }

    /// <summary>Rows (simulations) in the shard.</summary>
    long Rows { get; }

    /// <summary>The requested variables, in request order.</summary>
    IReadOnlyList<string> Variables { get; }

    /// <summary>Per-row shape of the variable at <paramref name="index"/> in <see cref="Variables"/>.</summary>
    int[] SampleShape(int index);

    /// <summary>
    /// Natural chunk starts, ascending from 0: the row groups of a Parquet file, ≈<paramref name="preferredRows"/>-row
    /// pieces of an .npy or .csv file, and a single chunk for data that can only be read whole (deflated .npz members,
    /// Fortran-order arrays).
    /// </summary>
    IReadOnlyList<long> ChunkStarts(int preferredRows);

    /// <summary>
    /// Reads rows [<paramref name="start"/>, <paramref name="start"/>+<paramref name="count"/>) of every variable
    /// into <paramref name="destinations"/> (one per variable, row-major, count × width values); an empty destination
    /// skips its variable.
    /// </summary>
    /// <exception cref="DataFileException">The data is not what the shard's header promised (ragged, non-numeric, truncated).</exception>
    void Read(long start, int count, Memory<double>[] destinations);
}

/// <summary>Resolves a variable to flat columns (CSV, Parquet): a column "x", or columns "x_0" … "x_{k-1}".</summary>
internal static class ColumnLayout
{
    /// <summary>The product of a shape's dimensions.</summary>
    public static int Width(IReadOnlyList<int> shape) => shape.Aggregate(1, (a, b) => checked(a * b));

    /// <summary>"(n, 4, 2)": rows (or "n") followed by the per-row shape.</summary>
    public static string Describe(IReadOnlyList<int> sampleShape, long? rows = null) =>
        NpyArray.Describe([rows ?? -1, .. sampleShape.Select(d => (long)d)]).Replace("-1", "n", StringComparison.Ordinal);

    /// <summary>
    /// The columns holding <paramref name="variable"/>, in row-major order of its per-row shape, and that shape: the
    /// shape option when one is given (its product must match the column count), else [] for a single column and [k]
    /// for k indexed columns.
    /// </summary>
    public static (int[] Columns, int[] Shape) Resolve(string source, string variable, IReadOnlyList<string> columns, int[]? shapeOption)
    {
        int exact = -1;
        var indexed = new SortedDictionary<int, int>();
        string prefix = variable + "_";
        for (int i = 0; i < columns.Count; i++)
        {
            string c = columns[i];
            if (c == variable) exact = i;
            else if (c.StartsWith(prefix, StringComparison.Ordinal) && c.Length > prefix.Length && c.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0
                     && int.TryParse(c.AsSpan(prefix.Length), out int k) && c.AsSpan(prefix.Length).ToString() == k.ToString(System.Globalization.CultureInfo.InvariantCulture))
                indexed[k] = i;
        }
        if (exact >= 0 && indexed.Count == 0)
        {
            if (shapeOption is not null && Width(shapeOption) != 1)
                throw new DataFileException(source, $"variable '{variable}': the shape option expects shape {Describe(shapeOption)} ({Width(shapeOption)} columns '{variable}_0' … '{variable}_{Width(shapeOption) - 1}'), but the file has the single column '{variable}' (shape {Describe([])}).");
            return ([exact], shapeOption ?? []);
        }
        if (indexed.Count == 0)
            throw new DataFileException(source, $"variable '{variable}' is missing: expected a column '{variable}' or columns '{variable}_0', '{variable}_1', …; found {List(columns)}.");
        if (exact >= 0)
            throw new DataFileException(source, $"variable '{variable}' is ambiguous: the file has both a column '{variable}' and columns '{variable}_0', …; rename one.");
        int count = indexed.Count;
        for (int k = 0; k < count; k++)
            if (!indexed.ContainsKey(k))
                throw new DataFileException(source, $"variable '{variable}': columns '{variable}_0' … must be numbered without gaps; '{variable}_{k}' is missing (found {List(indexed.Values.Select(i => columns[i]).ToList())}).");
        if (shapeOption is not null && Width(shapeOption) != count)
            throw new DataFileException(source, $"variable '{variable}': the shape option expects shape {Describe(shapeOption)} ({Width(shapeOption)} columns '{variable}_0' … '{variable}_{Width(shapeOption) - 1}'); the file has {count} columns ('{variable}_0' … '{variable}_{count - 1}'), shape {Describe([count])}.");
        return ([.. indexed.Values], shapeOption ?? [count]);
    }

    /// <summary>"'a', 'b', 'c'" (at most 12 names, then a count).</summary>
    public static string List(IReadOnlyList<string> names) => names.Count == 0 ? "no columns"
        : string.Join(", ", names.Take(12).Select(n => $"'{n}'")) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
}
