#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
using System.IO.Compression;
using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;

// Declares the residual blocks of bundles whose manifests lack them: for each graph, the blocks of
// the exporter's pattern (ResidualMlp.Emit with mish) are found by their structure and written into the graph's
// manifest entry (residual_blocks). Only manifest.json changes: every other entry is copied byte for byte, so the
// graphs, their SHA-256 entries and the draws stay as they were. Rerunnable: existing declarations are replaced.
// The bundle is read back through BundleReader (checksums, conventions) before it replaces the original; the
// runtime's tests then check that each shipped bundle compiles with exactly the passes it should.
// usage: dotnet run -c Release bench/tools/declare_residual_blocks.cs -- BUNDLE...
//   e.g. … models/two_moons/*.onnxsbi
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: dotnet run -c Release bench/tools/declare_residual_blocks.cs -- BUNDLE...");
    return 2;
}
const string ManifestEntry = "manifest.json";   // the bundle layout's manifest entry
var parser = new JsonParser(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));
var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation());
foreach (string path in args)
{
    var contents = BundleReader.Read(path);
    var entries = new List<(string Name, DateTimeOffset Time, byte[] Bytes)>();
    using (var zip = ZipFile.OpenRead(path))
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            entries.Add((entry.FullName, entry.LastWriteTime, copy.ToArray()));
        }
    int manifestIndex = entries.FindIndex(e => e.Name == ManifestEntry);
    var manifest = parser.Parse<BundleManifest>(System.Text.Encoding.UTF8.GetString(entries[manifestIndex].Bytes));
    foreach (var graph in manifest.Graphs)
    {
        graph.ResidualBlocks.Clear();
        graph.ResidualBlocks.Add(GraphCompiler.DiscoverResidualBlocks(contents.Graphs[graph.Role]));
        Console.WriteLine($"{path}: graph '{graph.Role}': {graph.ResidualBlocks.Count} residual blocks declared");
    }
    entries[manifestIndex] = (ManifestEntry, entries[manifestIndex].Time, new System.Text.UTF8Encoding(false).GetBytes(formatter.Format(manifest)));

    string temporary = path + ".declaring";
    using (var file = File.Create(temporary))
    using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        foreach (var (name, time, bytes) in entries)
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
            entry.LastWriteTime = time;
            using var stream = entry.Open();
            stream.Write(bytes);
        }
    // Read back (checksums, conventions) and check every declared block against its graph before replacing the original.
    var check = BundleReader.Read(temporary);
    foreach (var graph in check.Manifest.Graphs)
    {
        if (!check.Graphs[graph.Role].AsSpan().SequenceEqual(contents.Graphs[graph.Role])) throw new InvalidOperationException($"{path}: graph '{graph.Role}' changed.");
        GraphCompiler.Prepare(check, graph.Role, new RuntimeOptions());   // float32: the residual block pass rewrites every declared block or throws
    }
    File.Move(temporary, path, overwrite: true);
}
return 0;
