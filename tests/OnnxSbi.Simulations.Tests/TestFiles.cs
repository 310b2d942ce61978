using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using OnnxSbi.Simulations.Formats;
using Parquet;
using Parquet.Schema;

namespace OnnxSbi.Simulations.Tests;

/// <summary>A temporary directory of data files written for one test, deleted afterwards.</summary>
internal sealed class TestFiles : IDisposable
{
    public TestFiles() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "onnxsbi-files-" + Guid.NewGuid().ToString("N"));

    public string PathOf(string relative)
    {
        string p = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Writes a .npy of <paramref name="descr"/> (e.g. "&gt;i4"), C or Fortran order, from row-major values.</summary>
    public string Npy(string relative, string descr, long[] shape, double[] rowMajor, bool fortran = false)
    {
        string path = PathOf(relative);
        File.WriteAllBytes(path, NpyBytes(descr, shape, rowMajor, fortran));
        return path;
    }

    public static byte[] NpyBytes(string descr, long[] shape, double[] rowMajor, bool fortran = false)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({dims}), }}";
        int pad = (64 - (10 + dict.Length + 1) % 64) % 64;
        var text = Encoding.Latin1.GetBytes(dict + new string(' ', pad) + "\n");
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)text.Length));
        ms.Write(text);
        var values = fortran ? ToColumnMajor(rowMajor, shape) : rowMajor;
        var type = NpyElementType.Parse(descr, "test");
        var buffer = new byte[type.Size];
        foreach (double v in values)
        {
            Encode(type, v, buffer);
            ms.Write(buffer);
        }
        return ms.ToArray();
    }

    /// <summary>Writes an .npz of float64 members (stored or deflated) with the library's writer.</summary>
    public string Npz(string relative, bool compress, params (string Name, long[] Shape, double[] Data)[] members)
    {
        string path = PathOf(relative);
        using var file = File.Create(path);
        NpzArchive.Write(file, members.Select(m => KeyValuePair.Create(m.Name, new NpyArray(m.Data, m.Shape))), compress);
        return path;
    }

    public string Csv(string relative, string text)
    {
        string path = PathOf(relative);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Writes a Parquet file of double columns, one row group per entry of <paramref name="rowGroups"/> (rows per group).</summary>
    public string Parquet(string relative, int[] rowGroups, params (string Name, Func<long, double> Value)[] columns)
    {
        string path = PathOf(relative);
        var fields = columns.Select(c => new DataField(c.Name, typeof(double))).ToArray();
        Run(async () =>
        {
            using var file = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file);
            long at = 0;
            foreach (int rows in rowGroups)
            {
                using var group = writer.CreateRowGroup();
                for (int c = 0; c < columns.Length; c++)
                {
                    var values = new double[rows];
                    for (int r = 0; r < rows; r++) values[r] = columns[c].Value(at + r);
                    await group.WriteAsync<double>(fields[c], values);
                }
                at += rows;
            }
        });
        return path;
    }

    /// <summary>Writes a Parquet file with one list-of-double column and one double column; <paramref name="lengths"/> gives each row's list length.</summary>
    public string ParquetList(string relative, string listName, int[] lengths, Func<long, int, double> listValue, string scalarName, Func<long, double> scalarValue)
    {
        string path = PathOf(relative);
        var list = new ListField(listName, new DataField("element", typeof(double)));
        var scalar = new DataField(scalarName, typeof(double));
        Run(async () =>
        {
            using var file = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(list, scalar), file);
            using var group = writer.CreateRowGroup();
            var values = new List<double>();
            var reps = new List<int>();
            for (int r = 0; r < lengths.Length; r++)
                for (int i = 0; i < lengths[r]; i++)
                {
                    values.Add(listValue(r, i));
                    reps.Add(i == 0 ? 0 : 1);
                }
            var item = (DataField)list.Item;
            var defs = Enumerable.Repeat(item.MaxDefinitionLevel, values.Count).ToArray();
            await group.WriteAllPartsAsync<double>(item, values.ToArray(), defs, reps.ToArray(), default);
            await group.WriteAsync<double>(scalar, Enumerable.Range(0, lengths.Length).Select(r => scalarValue(r)).ToArray());
        });
        return path;
    }

    /// <summary>A CSV text with columns theta_0, theta_1 and x (header then <paramref name="rows"/> rows).</summary>
    public static string CsvText(int rows, Func<long, int, double> value, params string[] header)
    {
        var sb = new StringBuilder(string.Join(',', header)).Append('\n');
        for (int r = 0; r < rows; r++)
            sb.Append(string.Join(',', header.Select((_, c) => value(r, c).ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        return sb.ToString();
    }

    private static void Run(Func<Task> action) => action().GetAwaiter().GetResult();

    private static void Encode(NpyElementType type, double v, Span<byte> b)
    {
        switch (type.Kind, type.Size, type.BigEndian)
        {
            case ('f', 8, false): BinaryPrimitives.WriteDoubleLittleEndian(b, v); break;
            case ('f', 8, true): BinaryPrimitives.WriteDoubleBigEndian(b, v); break;
            case ('f', 4, false): BinaryPrimitives.WriteSingleLittleEndian(b, (float)v); break;
            case ('f', 4, true): BinaryPrimitives.WriteSingleBigEndian(b, (float)v); break;
            case ('i', 4, false): BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); break;
            case ('i', 4, true): BinaryPrimitives.WriteInt32BigEndian(b, (int)v); break;
            case ('i', 8, false): BinaryPrimitives.WriteInt64LittleEndian(b, (long)v); break;
            case ('u', 1, _): b[0] = (byte)v; break;
            default: throw new NotSupportedException(type.Descr);
        }
    }

    private static double[] ToColumnMajor(double[] rowMajor, long[] shape)
    {
        var result = new double[rowMajor.Length];
        int rank = shape.Length;
        var index = new long[rank];
        for (long flat = 0; flat < rowMajor.Length; flat++)
        {
            long offset = 0, stride = 1;
            for (int k = 0; k < rank; k++) { offset += index[k] * stride; stride *= shape[k]; }
            result[offset] = rowMajor[flat];
            for (int k = rank - 1; k >= 0 && ++index[k] == shape[k]; k--) index[k] = 0;
        }
        return result;
    }
}
