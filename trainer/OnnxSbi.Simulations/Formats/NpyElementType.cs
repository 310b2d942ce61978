using System.Buffers.Binary;

namespace OnnxSbi.Simulations.Formats;

/// <summary>A numeric NumPy element type (<c>descr</c>): floats, signed and unsigned integers and booleans, either byte order.</summary>
public sealed class NpyElementType
{
    private NpyElementType(char kind, int size, bool bigEndian)
    {
        Kind = kind;
        Size = size;
        BigEndian = bigEndian;
    }

    /// <summary>float64, little-endian ('&lt;f8').</summary>
    public static NpyElementType Float64 { get; } = new('f', 8, false);

    /// <summary>float32, little-endian ('&lt;f4').</summary>
    public static NpyElementType Float32 { get; } = new('f', 4, false);

    /// <summary>'f' (float), 'i' (signed), 'u' (unsigned) or 'b' (bool).</summary>
    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int Size { get; }

    /// <summary>True for big-endian ('&gt;') data.</summary>
    public bool BigEndian { get; }

    /// <summary>The NumPy descr string, e.g. "&lt;f8".</summary>
    public string Descr => $"{(Size == 1 ? '|' : BigEndian ? '>' : '<')}{Kind}{Size}";

    /// <summary>Parses a descr such as "&lt;f4", "|u1" or "&gt;i8".</summary>
    /// <exception cref="DataFileException">The type is not numeric (strings, objects, structured or complex arrays).</exception>
    public static NpyElementType Parse(string descr, string source)
    {
        if (descr.Length >= 3 && descr[0] is '<' or '>' or '|' or '=' && descr[1] is 'f' or 'i' or 'u' or 'b'
            && int.TryParse(descr.AsSpan(2), out int size)
            && (descr[1] == 'f' ? size is 2 or 4 or 8 : descr[1] == 'b' ? size == 1 : size is 1 or 2 or 4 or 8))
            return new NpyElementType(descr[1], size, descr[0] == '>');
        throw new DataFileException(source, $"element type '{descr}' is not numeric; expected a float, integer or bool array (e.g. '<f8', '<f4', '<i8').");
    }

    /// <summary>Converts <paramref name="bytes"/> (a whole number of elements) to doubles in <paramref name="destination"/>.</summary>
    public void ToDouble(ReadOnlySpan<byte> bytes, Span<double> destination)
    {
        int n = bytes.Length / Size;
        if (Kind == 'f' && Size == 8 && !BigEndian && BitConverter.IsLittleEndian)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).CopyTo(destination);
            return;
        }
        if (Kind == 'f' && Size == 4 && !BigEndian && BitConverter.IsLittleEndian)
        {
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
            for (int i = 0; i < n; i++) destination[i] = floats[i];
            return;
        }
        for (int i = 0; i < n; i++) destination[i] = Element(bytes.Slice(i * Size, Size));
    }

    private double Element(ReadOnlySpan<byte> b) => (Kind, Size, BigEndian) switch
    {
        ('f', 8, false) => BinaryPrimitives.ReadDoubleLittleEndian(b),
        ('f', 8, true) => BinaryPrimitives.ReadDoubleBigEndian(b),
        ('f', 4, false) => BinaryPrimitives.ReadSingleLittleEndian(b),
        ('f', 4, true) => BinaryPrimitives.ReadSingleBigEndian(b),
        ('f', 2, false) => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
        ('f', 2, true) => (double)BinaryPrimitives.ReadHalfBigEndian(b),
        ('i', 1, _) => (sbyte)b[0],
        ('u', 1, _) or ('b', 1, _) => b[0],
        ('i', 2, false) => BinaryPrimitives.ReadInt16LittleEndian(b),
        ('i', 2, true) => BinaryPrimitives.ReadInt16BigEndian(b),
        ('u', 2, false) => BinaryPrimitives.ReadUInt16LittleEndian(b),
        ('u', 2, true) => BinaryPrimitives.ReadUInt16BigEndian(b),
        ('i', 4, false) => BinaryPrimitives.ReadInt32LittleEndian(b),
        ('i', 4, true) => BinaryPrimitives.ReadInt32BigEndian(b),
        ('u', 4, false) => BinaryPrimitives.ReadUInt32LittleEndian(b),
        ('u', 4, true) => BinaryPrimitives.ReadUInt32BigEndian(b),
        ('i', 8, false) => BinaryPrimitives.ReadInt64LittleEndian(b),
        ('i', 8, true) => BinaryPrimitives.ReadInt64BigEndian(b),
        ('u', 8, false) => BinaryPrimitives.ReadUInt64LittleEndian(b),
        ('u', 8, true) => BinaryPrimitives.ReadUInt64BigEndian(b),
        _ => throw new InvalidOperationException($"Unhandled element type {Descr}."),
    };

    /// <inheritdoc/>
    public override string ToString() => Descr;
}
