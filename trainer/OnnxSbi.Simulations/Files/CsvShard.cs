using System.Globalization;
using nietras.SeparatedValues;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// A delimited text file with a header row, parsed with Sep (the separator is detected from the header). A variable
/// is a column "x" (one value per row) or columns "x_0" … "x_{k-1}" (row-major values of its per-row shape). On open,
/// one pass over the bytes counts the rows and records where every chunk of rows starts, so a row range is read by
/// seeking to its chunk, never by parsing the file from the top.
/// </summary>
internal sealed class CsvShard : IShardReader
{
    private const int IndexStride = 4096;
    private readonly Sep separator;
    private readonly int columnCount;
    private readonly int[][] columns;
    private readonly int[][] shapes;
    private readonly string[] header;
    private readonly long[] strideOffsets;

    private CsvShard(string path, string[] variables, Sep separator, string[] header, int[][] columns, int[][] shapes, long rows, long[] strideOffsets)
    {
        Source = path;
        Variables = variables;
        this.separator = separator;
        this.header = header;
        columnCount = header.Length;
        this.columns = columns;
        this.shapes = shapes;
        Rows = rows;
        this.strideOffsets = strideOffsets;
    }

    public string Source { get; }

    public long Rows { get; }

    public IReadOnlyList<string> Variables { get; }

    public int[] SampleShape(int index) => shapes[index];

    public IReadOnlyList<long> ChunkStarts(int preferredRows)
    {
        var starts = new List<long>();
        for (long s = 0; s < Rows; s += preferredRows) starts.Add(s);
        return starts;
    }

    public static CsvShard Open(string path, IReadOnlyList<string> variables, IReadOnlyDictionary<string, int[]> shapes)
    {
        if (new FileInfo(path).Length == 0) throw new DataFileException(path, "the file is empty; expected a header row of column names, then one row per simulation.");
        Sep sep;
        string[] names;
        using (var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path))
        {
            sep = reader.Spec.Sep;
            names = [.. reader.Header.ColNames];
        }
        var cols = new int[variables.Count][];
        var varShapes = new int[variables.Count][];
        for (int v = 0; v < variables.Count; v++)
            (cols[v], varShapes[v]) = ColumnLayout.Resolve(path, variables[v], names, shapes.GetValueOrDefault(variables[v]));
        var (rows, offsets) = IndexRows(path);
        if (rows == 0) throw new DataFileException(path, $"the file is empty: it has a header ({ColumnLayout.List(names)}) but no rows.");
        return new CsvShard(path, [.. variables], sep, names, cols, varShapes, rows, offsets);
    }

    public void Read(long start, int count, Memory<double>[] destinations)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the {Rows} rows of {Source}.");
        if (count == 0) return;
        long first = start / IndexStride * IndexStride;
        using var file = new FileStream(Source, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        file.Position = strideOffsets[start / IndexStride];
        using var reader = Sep.Reader(o => o with { Sep = separator, HasHeader = false, DisableColCountCheck = true, Unescape = true }).From(file);
        long row = first;
        int done = 0;
        foreach (var r in reader)
        {
            if (row < start) { row++; continue; }
            if (r.ColCount != columnCount)
                throw new DataFileException(Source, $"row {row + 1} (line {row + 2}) is ragged: it has {r.ColCount} cells, expected {columnCount} (one per header column {ColumnLayout.List(header)}).");
            for (int v = 0; v < columns.Length; v++)
            {
                if (destinations[v].IsEmpty) continue;
                var cols = columns[v];
                var dest = destinations[v].Span.Slice(done * cols.Length, cols.Length);
                for (int k = 0; k < cols.Length; k++)
                {
                    var cell = r[cols[k]].Span.Trim();
                    if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out dest[k]))
                        throw new DataFileException(Source, cell.IsEmpty
                            ? $"variable '{Variables[v]}': row {row + 1} (line {row + 2}) has an empty cell in column '{header[cols[k]]}'; expected a number (shape {ColumnLayout.Describe(shapes[v])} per row, every cell filled)."
                            : $"variable '{Variables[v]}': column '{header[cols[k]]}' is not numeric: row {row + 1} (line {row + 2}) holds '{cell}'.");
                }
            }
            row++;
            if (++done == count) return;
        }
        throw new DataFileException(Source, $"the file ends after row {row}; its index promised {Rows} rows (was it changed while being read?).");
    }

    /// <summary>
    /// Counts data rows (lines ended by a newline outside double quotes, after the header line, plus a last line without one; an empty line is a row, which then fails as ragged) and records the byte offset of every
    /// <see cref="IndexStride"/>-th row.
    /// </summary>
    private static (long Rows, long[] Offsets) IndexRows(string path)
    {
        var offsets = new List<long>();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var buffer = new byte[1 << 20];
        bool quoted = false, headerDone = false, lineHasContent = false;
        long rows = 0, position = 0, lineStart = 0;
        int n;
        while ((n = file.Read(buffer)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                byte b = buffer[i];
                if (b == (byte)'"') quoted = !quoted;
                if (quoted) { lineHasContent = true; continue; }
                if (b == (byte)'\n')
                {
                    if (!headerDone) headerDone = true;
                    else { if (rows % IndexStride == 0) offsets.Add(lineStart); rows++; }
                    lineStart = position + i + 1;
                    lineHasContent = false;
                }
                else if (b != (byte)'\r') lineHasContent = true;
            }
            position += n;
        }
        if (headerDone && lineHasContent) { if (rows % IndexStride == 0) offsets.Add(lineStart); rows++; }
        return (rows, [.. offsets]);
    }
}
