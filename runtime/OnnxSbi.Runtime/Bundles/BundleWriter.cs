using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// Writes an OnnxSbi bundle atomically: the zip is written to a temporary file in the target's
/// directory, flushed to disk, then renamed over the target, so a reader sees either the old bundle
/// or the complete new one, never a partial file.
/// </summary>
public static class BundleWriter
{
    private static readonly JsonFormatter ManifestFormatter = new(JsonFormatter.Settings.Default.WithIndentation());
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // A fixed timestamp keeps bundles byte-reproducible; the manifest's producer.created_utc holds the real time.
    private static readonly DateTimeOffset EntryTimestamp = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Writes <paramref name="graphsByRole"/>, <paramref name="manifest"/> and <paramref name="modelCard"/>
    /// to the bundle at <paramref name="path"/>, replacing any file there. The manifest is copied:
    /// the copy gets one <see cref="GraphEntry"/> per graph (path <c>graphs/&lt;role&gt;.onnx</c>,
    /// inputs and outputs read from the graph with −1 for symbolic dimensions, SHA-256) and schema
    /// version 1 when the caller left it 0. The caller's objects are not changed.
    /// </summary>
    /// <param name="path">The bundle file to create or replace.</param>
    /// <param name="manifest">
    /// The manifest; its <c>graphs</c> list is rebuilt from the graphs, keeping only what an entry of a role given in
    /// <paramref name="graphsByRole"/> declares about its graph (its <c>residual_blocks</c>), which must match the graph;
    /// entries of other roles are ignored.
    /// </param>
    /// <param name="graphsByRole">The ONNX model of each role ("velocity", "consistency", "inverse", "forward").</param>
    /// <param name="modelCard">The text of MODEL_CARD.md.</param>
    /// <exception cref="BundleFormatException">
    /// The bundle would not be readable: unknown schema version, unspecified family, non-positive
    /// dimensions, roles that do not match the family, graphs that break the role conventions, or declared residual
    /// blocks that the graph does not have.
    /// Nothing is written in that case.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="modelCard"/> is not valid UTF-16 (an unpaired surrogate), so it has no UTF-8 form.</exception>
    /// <exception cref="IOException">The file system failed; the temporary file is removed and any old bundle is left intact.</exception>
    public static void Write(string path, BundleManifest manifest, IReadOnlyDictionary<string, ModelProto> graphsByRole, string modelCard)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(graphsByRole);
        ArgumentNullException.ThrowIfNull(modelCard);
        string full = Path.GetFullPath(path);

        var written = Describe(full, manifest, graphsByRole);

        AtomicFile.Write(full, file =>
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var entry in written.Graphs)
            {
                byte[] bytes = graphsByRole[entry.Role].ToByteArray();
                entry.Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
                WriteEntry(zip, entry.Path, bytes);
            }
            WriteEntry(zip, BundleLayout.ModelCardEntry, StrictUtf8.GetBytes(modelCard));
            // Last, because it records the checksums of the graphs written above.
            WriteEntry(zip, BundleLayout.ManifestEntry, StrictUtf8.GetBytes(ManifestFormatter.Format(written)));
        });
    }

    /// <summary>
    /// Copies the manifest and fills its graph entries from the models (all but the checksums,
    /// which need the serialized bytes), checking everything a reader will check.
    /// </summary>
    private static BundleManifest Describe(string path, BundleManifest manifest, IReadOnlyDictionary<string, ModelProto> graphsByRole)
    {
        var copy = manifest.Clone();
        if (copy.SchemaVersion == 0) copy.SchemaVersion = BundleReader.SchemaVersion;
        var declared = manifest.Graphs.GroupBy(g => g.Role, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().ResidualBlocks, StringComparer.Ordinal);
        copy.Graphs.Clear();
        foreach (string role in graphsByRole.Keys.Order(StringComparer.Ordinal))
        {
            var entry = new GraphEntry { Role = role, Path = BundleLayout.GraphEntry(role) };
            if (declared.TryGetValue(role, out var blocks)) entry.ResidualBlocks.Add(blocks.Select(b => b.Clone()));
            copy.Graphs.Add(entry);
        }
        BundleValidator.CheckManifest(path, copy);

        foreach (var entry in copy.Graphs)
        {
            var model = graphsByRole[entry.Role]
                ?? throw new ArgumentException($"The graph for role '{entry.Role}' is null.", nameof(graphsByRole));
            var signature = GraphSignature.Of(model);
            BundleValidator.CheckRoleConventions(path, copy, entry.Role, entry.Path, signature);
            if (entry.Role == GraphRoles.Inverse) CouplingPlan.From(path, copy, model);
            // Declared residual blocks must be in the graph as declared: rewriting a throwaway copy checks every one.
            if (entry.ResidualBlocks.Count > 0)
                ResidualBlockRewrite.Apply(new GraphEdit(model.ToByteArray()), entry.ResidualBlocks, combineProjection: true, path, entry.Role);
            entry.Inputs.Add(signature.Inputs.Select(t => t.ToSpec()));
            entry.Outputs.Add(signature.Outputs.Select(t => t.ToSpec()));
        }
        return copy;
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = EntryTimestamp;
        using var stream = entry.Open();
        stream.Write(bytes);
    }
}
