using System.Collections.ObjectModel;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// Reads an OnnxSbi bundle (<c>*.onnxsbi</c>) into memory and checks it completely: the zip, the
/// manifest, every graph's checksum, and every graph's inputs and outputs against both the manifest
/// and the role conventions. Every entry read is checked against its zip CRC-32. Nothing is extracted to disk.
/// </summary>
public static class BundleReader
{
    /// <summary>The manifest schema version this reader understands.</summary>
    public const uint SchemaVersion = 1;

    // Entries are read in chunks that grow towards the declared size, so a header that lies about
    // the size costs memory only for bytes that really arrive.
    private const int FirstChunkBytes = 1 << 20;

    private static readonly JsonParser ManifestParser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads and checks the bundle at <paramref name="path"/>.</summary>
    /// <param name="path">The bundle file.</param>
    /// <param name="limits">Size and count bounds; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <returns>The bundle's contents, held in memory.</returns>
    /// <exception cref="BundleFormatException">The file is missing, unreadable, not a bundle, or inconsistent; the message names the problem.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive, or an entry limit exceeds the largest array.</exception>
    public static BundleContents Read(string path, BundleReadLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        limits ??= BundleReadLimits.Default;
        CheckLimits(limits);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new BundleFormatException(full, "file not found.");

        FileStream file;
        try
        {
            file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BundleFormatException(full, $"cannot be opened: {e.Message}", e);
        }

        using (file)
            return ReadArchive(full, file, limits);
    }

    /// <summary>
    /// Reads and checks a bundle from <paramref name="stream"/> (left open; read from its current position). A stream
    /// that cannot seek is copied into memory first, up to the limits' total size.
    /// </summary>
    /// <param name="stream">The bundle's bytes.</param>
    /// <param name="sourceName">What errors and <see cref="BundleContents.SourcePath"/> call the bundle; "(stream)" when null.</param>
    /// <param name="limits">Size and count bounds; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <exception cref="BundleFormatException">The bytes are not a bundle, or an inconsistent one; the message names the problem.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive, or an entry limit exceeds the largest array.</exception>
    public static BundleContents Read(Stream stream, string? sourceName = null, BundleReadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= BundleReadLimits.Default;
        CheckLimits(limits);
        string name = string.IsNullOrEmpty(sourceName) ? "(stream)" : sourceName;
        if (stream.CanSeek) return ReadArchive(name, stream, limits);
        using var copy = new MemoryStream();
        // The archive's compressed bytes are at most the entries' total plus their headers: bounded like the entries.
        long bound = limits.MaxTotalBytes + (long)limits.MaxEntries * 1024 + 65_536;
        var buffer = new byte[81_920];
        try
        {
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (copy.Length + n > bound)
                    throw new BundleFormatException(name, $"the stream holds more than {bound} bytes, more than a bundle within the limits (MaxTotalBytes {limits.MaxTotalBytes}) can be.");
                copy.Write(buffer, 0, n);
            }
        }
        catch (IOException e)
        {
            throw new BundleFormatException(name, $"cannot be read: {e.Message}", e);
        }
        copy.Position = 0;
        return ReadArchive(name, copy, limits);
    }

    /// <summary>Reads and checks a bundle held in memory (the bytes of a <c>.onnxsbi</c> file); the bytes are not copied.</summary>
    /// <param name="bundle">The bundle's bytes.</param>
    /// <param name="sourceName">What errors and <see cref="BundleContents.SourcePath"/> call the bundle; "(memory)" when null.</param>
    /// <param name="limits">Size and count bounds; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <exception cref="BundleFormatException">The bytes are not a bundle, or an inconsistent one; the message names the problem.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive, or an entry limit exceeds the largest array.</exception>
    public static BundleContents Read(ReadOnlyMemory<byte> bundle, string? sourceName = null, BundleReadLimits? limits = null)
    {
        limits ??= BundleReadLimits.Default;
        CheckLimits(limits);
        string name = string.IsNullOrEmpty(sourceName) ? "(memory)" : sourceName;
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bundle, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bundle.ToArray(), writable: false);
        return ReadArchive(name, stream, limits);
    }

    private static BundleContents ReadArchive(string path, Stream file, BundleReadLimits limits)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (IsCorruptData(e))
        {
            throw new BundleFormatException(path, $"is not a zip archive, or is truncated: {e.Message}", e);
        }
        using (archive)
            return ReadContents(path, IndexEntries(path, archive, limits), limits);
    }

    private static BundleContents ReadContents(string path, IReadOnlyDictionary<string, ZipArchiveEntry> entries, BundleReadLimits limits)
    {
        long total = 0;
        byte[] manifestBytes = ReadEntry(path, Require(path, entries, BundleLayout.ManifestEntry), limits, ref total);
        var manifest = ParseManifest(path, manifestBytes);
        BundleValidator.CheckManifest(path, manifest);

        var graphs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        CouplingPlan? plan = null;
        foreach (var entry in manifest.Graphs)
        {
            if (!entries.TryGetValue(entry.Path, out var zipEntry))
                throw new BundleFormatException(path,
                    $"manifest graph '{entry.Role}' points at entry '{entry.Path}', which the archive does not hold.");
            byte[] bytes = ReadEntry(path, zipEntry, limits, ref total);

            string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(sha, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new BundleFormatException(path,
                    $"graph '{entry.Role}' ({entry.Path}) has SHA-256 {sha}, but the manifest records {(entry.Sha256.Length == 0 ? "none" : entry.Sha256)}; the entry is corrupt or was replaced.");

            var model = ParseModel(path, entry, bytes);
            var signature = GraphSignature.Of(model);
            BundleValidator.CheckEntryAgreement(path, entry, signature);
            BundleValidator.CheckRoleConventions(path, manifest, entry.Role, entry.Path, signature);
            // A coupling flow's inverse steps must match its inverse graph (each subnet cut out of it).
            if (entry.Role == GraphRoles.Inverse) plan = CouplingPlan.From(path, manifest, model);
            graphs.Add(entry.Role, bytes);
        }

        byte[] card = ReadEntry(path, Require(path, entries, BundleLayout.ModelCardEntry), limits, ref total);
        string modelCard = DecodeUtf8(path, BundleLayout.ModelCardEntry, card);
        return new BundleContents(manifest, new ReadOnlyDictionary<string, byte[]>(graphs), modelCard, path, plan);
    }

    private static IReadOnlyDictionary<string, ZipArchiveEntry> IndexEntries(string path, ZipArchive archive, BundleReadLimits limits)
    {
        ReadOnlyCollection<ZipArchiveEntry> all;
        try
        {
            all = archive.Entries;
        }
        catch (Exception e) when (IsCorruptData(e))
        {
            throw new BundleFormatException(path, $"has a corrupt zip central directory: {e.Message}", e);
        }
        if (all.Count > limits.MaxEntries)
            throw new BundleFormatException(path, $"holds {all.Count} zip entries; the limit is {limits.MaxEntries}.");

        var byName = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in all)
        {
            if (BundleLayout.UnsafeReason(entry.FullName) is { } reason)
                throw new BundleFormatException(path, $"zip entry name '{Printable(entry.FullName)}' {reason}; refusing a crafted archive.");
            if (!byName.TryAdd(entry.FullName, entry))
                throw new BundleFormatException(path, $"holds zip entry '{entry.FullName}' more than once, so its contents are ambiguous.");
        }
        return byName;
    }

    private static ZipArchiveEntry Require(string path, IReadOnlyDictionary<string, ZipArchiveEntry> entries, string name)
        => entries.TryGetValue(name, out var entry)
            ? entry
            : throw new BundleFormatException(path, $"has no {name} entry; is it an OnnxSbi bundle?");

    /// <summary>Reads one entry, bounded by its declared size and by the limits, before and while reading.</summary>
    private static byte[] ReadEntry(string path, ZipArchiveEntry entry, BundleReadLimits limits, ref long total)
    {
        string name = entry.FullName;
        long declared = entry.Length;
        if (declared < 0)
            throw new BundleFormatException(path, $"entry '{name}' declares a negative size ({declared} bytes).");
        if (declared > limits.MaxEntryBytes)
            throw new BundleFormatException(path, $"entry '{name}' declares {declared} bytes uncompressed, over the limit of {limits.MaxEntryBytes} bytes per entry.");
        if (declared > limits.MaxTotalBytes - total)
            throw new BundleFormatException(path, $"entry '{name}' declares {declared} bytes, which with the {total} bytes read before it exceeds the limit of {limits.MaxTotalBytes} bytes per bundle.");

        byte[] buffer = new byte[(int)Math.Min(declared, FirstChunkBytes)];
        int read = 0;
        try
        {
            using Stream stream = entry.Open();
            while (true)
            {
                if (read == buffer.Length)
                {
                    if (read == declared) break;
                    Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
                }
                int n = stream.Read(buffer, read, buffer.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < declared)
                throw new BundleFormatException(path, $"entry '{name}' is truncated: it declares {declared} bytes but holds {read}.");
            // One more byte means the entry inflates past its declared size: a lying header or a zip bomb.
            if (stream.ReadByte() >= 0)
                throw new BundleFormatException(path, $"entry '{name}' holds more than the {declared} bytes it declares.");
        }
        catch (Exception e) when (IsCorruptData(e))
        {
            throw new BundleFormatException(path, $"entry '{name}' cannot be read: {e.Message}", e);
        }
        uint crc = ZipCrc32.Compute(buffer);
        if (crc != entry.Crc32)
            throw new BundleFormatException(path, $"entry '{name}' fails its CRC-32 check (the zip records 0x{entry.Crc32:x8}, the data gives 0x{crc:x8}); the archive is corrupt.");
        total += declared;
        return buffer;
    }

    private static BundleManifest ParseManifest(string path, byte[] bytes)
    {
        string json = DecodeUtf8(path, BundleLayout.ManifestEntry, bytes);
        try
        {
            return ManifestParser.Parse<BundleManifest>(json);
        }
        catch (Exception e) when (e is InvalidJsonException or InvalidProtocolBufferException or FormatException)
        {
            throw new BundleFormatException(path, $"{BundleLayout.ManifestEntry} is not a valid BundleManifest in protobuf JSON: {e.Message}", e);
        }
    }

    private static ModelProto ParseModel(string path, GraphEntry entry, byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new BundleFormatException(path, $"graph '{entry.Role}' ({entry.Path}) is not an ONNX ModelProto: {e.Message}", e);
        }
        return model.Graph is null
            ? throw new BundleFormatException(path, $"graph '{entry.Role}' ({entry.Path}) is an ONNX ModelProto without a graph.")
            : model;
    }

    private static string DecodeUtf8(string path, string entryName, byte[] bytes)
    {
        try
        {
            string text = StrictUtf8.GetString(bytes);
            // Tolerate a byte-order mark from editors that write one; protobuf JSON itself has none.
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException e)
        {
            throw new BundleFormatException(path, $"{entryName} is not valid UTF-8: {e.Message}", e);
        }
    }

    private static bool IsCorruptData(Exception e) => e is InvalidDataException or IOException or NotSupportedException;

    private static string Printable(string name)
        => string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    private static void CheckLimits(BundleReadLimits limits)
    {
        if (limits.MaxEntryBytes <= 0 || limits.MaxEntryBytes > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(limits), limits.MaxEntryBytes, $"MaxEntryBytes must be in 1..{Array.MaxLength}.");
        if (limits.MaxTotalBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(limits), limits.MaxTotalBytes, "MaxTotalBytes must be positive.");
        if (limits.MaxEntries <= 0)
            throw new ArgumentOutOfRangeException(nameof(limits), limits.MaxEntries, "MaxEntries must be positive.");
    }
}
