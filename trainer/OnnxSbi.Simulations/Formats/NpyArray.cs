namespace OnnxSbi.Simulations.Formats;

/// <summary>
/// A NumPy array read into memory as float64, row-major (C order), with its shape: one <c>.npy</c> file, or one member
/// of an <c>.npz</c> archive.
/// </summary>
public sealed class NpyArray
{
    /// <summary>Wraps <paramref name="data"/> (kept, not copied), checking that it holds exactly the shape's elements.</summary>
    public NpyArray(double[] data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        long count = shape.Aggregate(1L, (a, b) => b < 0 ? throw new ArgumentException($"Negative dimension in shape ({string.Join(", ", shape)}).") : a * b);
        if (count != data.Length) throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {count} values; the data has {data.Length}.");
        Data = data;
        Shape = shape;
    }

    /// <summary>The values, row-major.</summary>
    public double[] Data { get; }

    /// <summary>The shape; the first dimension is the rows (simulations).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The shape as numpy prints it, e.g. "(1000, 4, 2)".</summary>
    public string ShapeText => Describe(Shape);

    /// <summary>Reads a whole array from a .npy stream positioned at its start.</summary>
    /// <exception cref="DataFileException">Not a numeric .npy array, or truncated.</exception>
    public static NpyArray Read(Stream stream, string source)
    {
        var header = NpyHeader.Read(stream, source);
        if (header.Count > Array.MaxLength)
            throw new DataFileException(source, $"the array of shape {Describe(header.Shape)} has {header.Count} elements, more than one in-memory array holds; split it into shards.");
        var data = new double[header.Count];
        ReadElements(stream, header, data, source);
        if (header.FortranOrder) data = ToRowMajor(data, header.Shape);
        return new NpyArray(data, [.. header.Shape]);
    }

    /// <summary>Reads a whole .npy file.</summary>
    public static NpyArray Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Writes the array as a version-1 .npy of float64 (C order).</summary>
    public void Write(Stream stream)
    {
        NpyHeader.Write(stream, NpyElementType.Float64, Shape);
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Data.AsSpan()));
    }

    /// <summary>"(d0, d1, …)", numpy's notation, "(n,)" for one dimension.</summary>
    public static string Describe(IReadOnlyList<long> shape) => shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    /// <summary>Reads <paramref name="destination"/>.Length elements from the stream's current position, converting to float64.</summary>
    internal static void ReadElements(Stream stream, NpyHeader header, Span<double> destination, string source)
    {
        int size = header.ElementType.Size;
        var buffer = new byte[Math.Min(1 << 20, Math.Max(size, destination.Length * size)) / size * size];
        int done = 0;
        while (done < destination.Length)
        {
            int want = Math.Min(buffer.Length / size, destination.Length - done) * size;
            if (NpyHeader.ReadAtMost(stream, buffer.AsSpan(0, want)) < want) throw NpyHeader.Truncated(source, "data");
            header.ElementType.ToDouble(buffer.AsSpan(0, want), destination.Slice(done, want / size));
            done += want / size;
        }
    }

    private static double[] ToRowMajor(double[] columnMajor, IReadOnlyList<long> shape)
    {
        int rank = shape.Count;
        if (rank < 2) return columnMajor;
        var result = new double[columnMajor.Length];
        var index = new long[rank];
        // Walk the row-major order; the column-major offset of an index is Σ index[k]·Π_{j<k} shape[j].
        for (long flat = 0; flat < result.Length; flat++)
        {
            long offset = 0, stride = 1;
            for (int k = 0; k < rank; k++) { offset += index[k] * stride; stride *= shape[k]; }
            result[flat] = columnMajor[offset];
            for (int k = rank - 1; k >= 0 && ++index[k] == shape[k]; k--) index[k] = 0;
        }
        return result;
    }
}
