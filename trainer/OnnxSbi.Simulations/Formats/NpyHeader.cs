using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OnnxSbi.Simulations.Formats;

/// <summary>
/// The header of a NumPy <c>.npy</c> array (format versions 1, 2 and 3): element type, memory order and shape, and
/// where the data starts. Hand-written because no maintained .NET library reads NPY; the format is a 10-line spec
/// (numpy.lib.format).
/// </summary>
public sealed partial class NpyHeader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private NpyHeader(NpyElementType type, bool fortranOrder, long[] shape, long dataOffset)
    {
        ElementType = type;
        FortranOrder = fortranOrder;
        Shape = shape;
        DataOffset = dataOffset;
    }

    /// <summary>The element type.</summary>
    public NpyElementType ElementType { get; }

    /// <summary>True when the data is stored column-major (numpy's <c>fortran_order</c>).</summary>
    public bool FortranOrder { get; }

    /// <summary>The array's shape; empty for a 0-d array.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Bytes from the start of the .npy stream to the first element.</summary>
    public long DataOffset { get; }

    /// <summary>The number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The number of data bytes the header promises.</summary>
    public long DataBytes => Count * ElementType.Size;

    /// <summary>Reads the header from the current position of <paramref name="stream"/>, which is left at the first element.</summary>
    /// <param name="stream">The .npy stream.</param>
    /// <param name="source">The file (or archive member) named in errors.</param>
    /// <exception cref="DataFileException">The stream is not a .npy array, or its element type is not numeric.</exception>
    public static NpyHeader Read(Stream stream, string source)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = ReadAtMost(stream, prefix[..8]);
        if (got == 0) throw new DataFileException(source, "the file is empty; expected a NumPy .npy array.");
        if (got < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new DataFileException(source, "not a NumPy .npy array (the magic string \\x93NUMPY is missing).");
        int major = prefix[6];
        int lengthBytes = major == 1 ? 2 : major is 2 or 3 ? 4 : throw new DataFileException(source, $"unsupported .npy format version {major}.{prefix[7]}; versions 1, 2 and 3 are read.");
        if (ReadAtMost(stream, prefix.Slice(8, lengthBytes)) < lengthBytes) throw Truncated(source, "header");
        long headerLength = lengthBytes == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (headerLength > 1 << 20) throw new DataFileException(source, $"the .npy header claims {headerLength} bytes; a header is at most a few hundred.");
        var text = new byte[headerLength];
        if (ReadAtMost(stream, text) < headerLength) throw Truncated(source, "header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(text);
        var descr = DescrPattern().Match(header);
        var order = OrderPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !order.Success || !shape.Success)
            throw new DataFileException(source, $"the .npy header is not a dict with 'descr', 'fortran_order' and 'shape': {header.Trim()}");
        var type = NpyElementType.Parse(descr.Groups[1].Value, source);
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => long.TryParse(d.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v
                : throw new DataFileException(source, $"the .npy shape '({shape.Groups[1].Value})' is not a tuple of non-negative integers."))
            .ToArray();
        return new NpyHeader(type, order.Groups[1].Value == "True", dims, 6 + 2 + lengthBytes + headerLength);
    }

    /// <summary>Writes a version-1 header for a C-order array of <paramref name="type"/> and <paramref name="shape"/>, padded so the data starts 64-byte aligned.</summary>
    public static void Write(Stream stream, NpyElementType type, IReadOnlyList<long> shape)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '{type.Descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 6 + 2 + 2 + dict.Length + 1;
        int padded = (unpadded + 63) / 64 * 64;
        string text = dict + new string(' ', padded - unpadded) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)text.Length));
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(text));
    }

    internal static DataFileException Truncated(string source, string part) =>
        new(source, $"the file is truncated: its .npy {part} ends early (an interrupted copy or write?).");

    internal static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex OrderPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
