using Parquet;
using Parquet.Data;
using Parquet.Schema;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// A Parquet file read with Parquet.Net. A variable is a list column "x" whose every row holds the same number of
/// values (Arrow's fixed-size list, as pyarrow and Spark write arrays), a numeric column "x", or numeric columns
/// "x_0" … "x_{k-1}". Only the requested columns are read; a chunk is a row group, decoded whole.
/// </summary>
internal sealed class ParquetShard : IShardReader
{
    private readonly DataField[][] fields;
    private readonly bool[] isList;
    private readonly int[][] shapes;
    private readonly long[] groupStarts;

    private ParquetShard(string path, string[] variables, DataField[][] fields, bool[] isList, int[][] shapes, long[] groupStarts)
    {
        Source = path;
        Variables = variables;
        this.fields = fields;
        this.isList = isList;
        this.shapes = shapes;
        this.groupStarts = groupStarts;
        Rows = groupStarts[^1];
    }

    public string Source { get; }

    public long Rows { get; }

    public IReadOnlyList<string> Variables { get; }

    public int[] SampleShape(int index) => shapes[index];

    public IReadOnlyList<long> ChunkStarts(int preferredRows) => groupStarts[..^1];

    public static ParquetShard Open(string path, IReadOnlyList<string> variables, IReadOnlyDictionary<string, int[]> shapes)
    {
        if (new FileInfo(path).Length == 0) throw new DataFileException(path, "the file is empty; expected a Parquet file.");
        var reader = OpenReader(path);
        try
        {
            var dataFields = reader.Schema.GetDataFields();
            var topNames = reader.Schema.Fields.Select(f => f.Name).ToList();
            var groupRows = reader.RowGroups.Select(g => g.RowCount).ToArray();
            var starts = new long[groupRows.Length + 1];
            for (int g = 0; g < groupRows.Length; g++) starts[g + 1] = starts[g] + groupRows[g];
            if (starts[^1] == 0) throw new DataFileException(path, $"the file is empty: it has columns {ColumnLayout.List(topNames)} but no rows.");

            var fields = new DataField[variables.Count][];
            var isList = new bool[variables.Count];
            var varShapes = new int[variables.Count][];
            for (int v = 0; v < variables.Count; v++)
            {
                string name = variables[v];
                var option = shapes.GetValueOrDefault(name);
                var top = reader.Schema.Fields.FirstOrDefault(f => f.Name == name);
                if (top is not null && top is not DataField || top is DataField { IsArray: true })
                {
                    var leaf = dataFields.Where(f => f.Path.FirstPart == name).ToList();
                    if (leaf.Count != 1 || leaf[0].MaxRepetitionLevel != 1)
                        throw new DataFileException(path, $"variable '{name}': column '{name}' is a {top.SchemaType} that is not a single list of numbers; expected a list column (one fixed-length list per row) or columns '{name}_0', '{name}_1', ….");
                    CheckNumeric(path, name, leaf[0]);
                    int length = ListLength(path, name, reader, leaf[0], option);
                    fields[v] = [leaf[0]];
                    isList[v] = true;
                    varShapes[v] = option ?? [length];
                    continue;
                }
                var flat = dataFields.Where(f => f.Path.Length == 1 && f.MaxRepetitionLevel == 0).ToList();
                var (cols, shape) = ColumnLayout.Resolve(path, name, flat.Select(f => f.Name).ToList(), option);
                fields[v] = [.. cols.Select(c => flat[c])];
                foreach (var f in fields[v]) CheckNumeric(path, name, f);
                varShapes[v] = shape;
            }
            return new ParquetShard(path, [.. variables], fields, isList, varShapes, starts);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public void Read(long start, int count, Memory<double>[] destinations)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the {Rows} rows of {Source}.");
        if (count == 0) return;
        var reader = OpenReader(Source);
        try
        {
            int group = Array.BinarySearch(groupStarts, start);
            if (group < 0) group = ~group - 1;
            int done = 0;
            while (done < count)
            {
                long groupStart = groupStarts[group];
                int groupRows = checked((int)(groupStarts[group + 1] - groupStart));
                int from = checked((int)(start + done - groupStart));
                int take = Math.Min(count - done, groupRows - from);
                using var rowGroup = reader.OpenRowGroupReader(group);
                for (int v = 0; v < fields.Length; v++)
                {
                    if (destinations[v].IsEmpty) continue;
                    int width = ColumnLayout.Width(shapes[v]);
                    var dest = destinations[v].Slice(done * width, take * width);
                    if (isList[v]) ReadList(rowGroup, group, v, groupRows, from, take, width, dest.Span);
                    else
                        for (int k = 0; k < fields[v].Length; k++) ReadColumn(rowGroup, group, v, k, groupRows, from, take, width, dest.Span);
                }
                done += take;
                group++;
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private void ReadColumn(ParquetRowGroupReader rowGroup, int group, int v, int k, int groupRows, int from, int take, int width, Span<double> dest)
    {
        var field = fields[v][k];
        using var raw = Decode(rowGroup, field, v);
        if (field.MaxDefinitionLevel > 0 && CountBelow(raw.DefinitionLevels, field.MaxDefinitionLevel) is var nulls and > 0)
            throw new DataFileException(Source, $"variable '{Variables[v]}': column '{field.Name}' has {nulls} null values in row group {group}; expected a number in every row (shape {ColumnLayout.Describe(shapes[v])}).");
        int got = Convert(raw, from, take, dest[k..], width);
        if (got != take)
            throw new DataFileException(Source, $"variable '{Variables[v]}': column '{field.Name}' holds {got + from} values for the {groupRows} rows of row group {group}.");
    }

    private void ReadList(ParquetRowGroupReader rowGroup, int group, int v, int groupRows, int from, int take, int width, Span<double> dest)
    {
        var field = fields[v][0];
        using var raw = Decode(rowGroup, field, v);
        var reps = raw.RepetitionLevels;
        var defs = field.MaxDefinitionLevel > 0 ? raw.DefinitionLevels : default;
        // Every row must be a list of exactly `width` non-null values: entry i starts a row when its repetition level is 0.
        int row = -1, length = 0;
        for (int i = 0; i < reps.Length; i++)
        {
            if (reps[i] == 0)
            {
                if (row >= 0 && length != width) throw WrongLength(v, group, row, length, width);
                row++;
                length = 0;
            }
            if (!defs.IsEmpty && defs[i] < field.MaxDefinitionLevel)
            {
                // An empty list is one entry defined below the leaf; a null element is one defined just below it.
                if (defs[i] < field.MaxDefinitionLevel - 1 || reps[i] == 0 && (i + 1 == reps.Length || reps[i + 1] == 0)) continue;
                throw new DataFileException(Source, $"variable '{Variables[v]}': row {groupStarts[group] + row + 1} of list column '{Variables[v]}' holds a null value; expected {width} numbers (shape {ColumnLayout.Describe(shapes[v])}).");
            }
            length++;
        }
        if (row >= 0 && length != width) throw WrongLength(v, group, row, length, width);
        if (row + 1 != groupRows)
            throw new DataFileException(Source, $"variable '{Variables[v]}': list column '{Variables[v]}' holds {row + 1} rows in row group {group}, which has {groupRows}.");
        Convert(raw, from * width, take * width, dest, 1);
    }

    private DataFileException WrongLength(int v, int group, int row, int length, int width) =>
        new(Source, $"variable '{Variables[v]}' is ragged: row {groupStarts[group] + row + 1} of list column '{Variables[v]}' has {length} values; expected {width} (shape {ColumnLayout.Describe(shapes[v])} per row).");

    private RawColumnData Decode(ParquetRowGroupReader rowGroup, DataField field, int v)
    {
        try
        {
            return rowGroup.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not DataFileException and not OutOfMemoryException)
        {
            throw new DataFileException(Source, $"variable '{Variables[v]}': column '{field.Path}' cannot be decoded ({e.Message}) — a truncated or corrupt file?", e);
        }
    }

    /// <summary>Copies values [<paramref name="from"/>, +<paramref name="take"/>) of the decoded column as doubles, every <paramref name="stride"/>-th slot; returns how many there were.</summary>
    private static int Convert(RawColumnData raw, int from, int take, Span<double> dest, int stride)
    {
        switch (raw)
        {
            case RawColumnData<double> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<float> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<int> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<long> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<short> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<sbyte> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<byte> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<ushort> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<uint> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<ulong> d: return Copy(d.Values, from, take, dest, stride, x => x);
            case RawColumnData<bool> d: return Copy(d.Values, from, take, dest, stride, x => x ? 1 : 0);
            case RawColumnData<Half> d: return Copy(d.Values, from, take, dest, stride, x => (double)x);
            default: throw new InvalidOperationException($"Unhandled Parquet column type {raw.GetType()}.");
        }
    }

    /// <summary>Writes value from+i to dest[i·stride]; returns how many values there were.</summary>
    private static int Copy<T>(Span<T> values, int from, int take, Span<double> dest, int stride, Func<T, double> convert) where T : struct
    {
        int n = Math.Min(take, Math.Max(0, values.Length - from));
        if (typeof(T) == typeof(double) && stride == 1)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values.Slice(from, n)).CopyTo(dest);
            return n;
        }
        for (int i = 0; i < n; i++) dest[i * stride] = convert(values[from + i]);
        return n;
    }

    private static int CountBelow(Span<int> levels, int max)
    {
        int n = 0;
        foreach (int l in levels) if (l < max) n++;
        return n;
    }

    private static readonly HashSet<Type> Numeric = [typeof(double), typeof(float), typeof(int), typeof(long), typeof(short), typeof(sbyte), typeof(byte), typeof(ushort), typeof(uint), typeof(ulong), typeof(bool), typeof(Half)];

    private static void CheckNumeric(string path, string variable, DataField field)
    {
        if (!Numeric.Contains(field.ClrType))
            throw new DataFileException(path, $"variable '{variable}': column '{field.Path}' is not numeric (it holds {Describe(field.ClrType)} values); expected float, integer or bool values.");
    }

    private static string Describe(Type type) =>
        type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? "text"
        : type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) ? "binary"
        : type.Name;

    /// <summary>
    /// The list length of a list column, from the column-chunk metadata: a fixed-size list of L values over R rows
    /// has R·L entries in every row group. Rows of other lengths with the same total are caught when the group is read.
    /// </summary>
    private static int ListLength(string path, string name, ParquetReader reader, DataField leaf, int[]? option)
    {
        int? length = option is null ? null : ColumnLayout.Width(option);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            long rows = rg.RowCount;
            if (rows == 0) continue;
            long entries = rg.GetMetadata(leaf)?.MetaData?.NumValues ?? throw new DataFileException(path, $"variable '{name}': row group {g} has no metadata for column '{leaf.Path}'.");
            length ??= (int)(entries / rows);
            if (entries != rows * length)
                throw new DataFileException(path, option is null
                    ? $"variable '{name}' is ragged: list column '{name}' holds {entries} values for the {rows} rows of row group {g}; expected the same length in every row ({length} values, shape {ColumnLayout.Describe([length.Value])}, as in the first row group)."
                    : $"variable '{name}': the shape option expects shape {ColumnLayout.Describe(option)} ({length} values per row); list column '{name}' holds {entries} values for the {rows} rows of row group {g} ({(double)entries / rows:0.##} per row).");
        }
        return length ?? throw new DataFileException(path, $"variable '{name}': list column '{name}' has no rows.");
    }

    private static ParquetReader OpenReader(string path)
    {
        try
        {
            return ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not DataFileException and not OutOfMemoryException)
        {
            throw new DataFileException(path, $"not a readable Parquet file ({e.Message}) — truncated, or not Parquet?", e);
        }
    }
}
