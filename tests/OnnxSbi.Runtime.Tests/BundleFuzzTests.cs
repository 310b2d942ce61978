using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests;

/// <summary>
/// Mutated bundles from a fixed seed: whatever the damage, the reader either succeeds or throws
/// <see cref="BundleFormatException"/>, quickly, and never writes a file.
/// </summary>
public sealed class BundleFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20250611;
    private const int Mutants = 400;

    // A clean read of this bundle takes about a millisecond; a second per read only trips on a
    // hang, a zip bomb or runaway allocation, not on a busy shared CI machine.
    private static readonly TimeSpan SlowRead = TimeSpan.FromSeconds(1);

    private static readonly string[] HostileNames =
    [
        "../escape.txt", "../../escape.txt", "/tmp/escape.txt", "graphs\\velocity.onnx", "C:/escape.txt",
        "graphs/../../escape.txt", "graphs/./velocity.onnx", "manifest.json", "MODEL_CARD.md",
        "graphs/velocity.onnx", "Manifest.json", "graphs/", "a\u0001b", "graphs//velocity.onnx",
    ];

    private enum Mutation { FlipBytes, Truncate, AppendGarbage, DuplicateEntry, RenameEntry, DropEntry, FlipManifestText, FlipGraphAndResign, RenameAndFlip }

    [Fact]
    public void Read_MutatedBundles_SucceedOrThrowBundleFormatExceptionQuickly()
    {
        using var root = new TempDirectory();
        string target = Path.Combine(root.Path, "target");
        Directory.CreateDirectory(target);
        string good = TestBundles.WriteGood(Path.Combine(target, "good.onnxsbi"));
        byte[] original = File.ReadAllBytes(good);
        var entries = TestBundles.ReadEntries(original);
        byte[] originalGraph = entries.Single(e => e.Name == TestBundles.VelocityPath).Data;
        var originalManifest = BundleReader.Read(good).Manifest;
        string fuzzed = Path.Combine(target, "fuzzed.onnxsbi");
        var random = new Random(Seed);
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var slowest = TimeSpan.Zero;

        for (int i = 0; i < Mutants; i++)
        {
            var mutation = (Mutation)random.Next(Enum.GetValues<Mutation>().Length);
            File.WriteAllBytes(fuzzed, Mutate(mutation, original, entries, random));

            var clock = Stopwatch.StartNew();
            string outcome;
            try
            {
                var read = BundleReader.Read(fuzzed);
                // The SHA-256 in the manifest protects the graphs: a read that succeeds returns the
                // original graph unless the mutant re-signed a damaged one on purpose.
                bool sameGraph = read.Graphs[TestBundles.Velocity].AsSpan().SequenceEqual(originalGraph);
                Assert.True(sameGraph || mutation == Mutation.FlipGraphAndResign, $"Mutant {i} ({mutation}) changed the graph unnoticed.");
                outcome = $"read, {(sameGraph ? "same" : "changed")} graph, {(read.ModelCard == TestBundles.ModelCard ? "same" : "changed")} card, "
                    + $"{(read.Manifest.Equals(originalManifest) ? "same" : "changed")} manifest";
            }
            catch (BundleFormatException e)
            {
                Assert.Equal(fuzzed, e.BundlePath);
                outcome = "refused: " + Problem(e.Message[(fuzzed.Length + "Bundle '': ".Length)..]);
            }
            catch (Exception e)
            {
                Assert.Fail($"Mutant {i} ({mutation}, seed {Seed}) escaped as {e.GetType().Name}: {e}");
                throw;
            }
            clock.Stop();
            Assert.True(clock.Elapsed < SlowRead, $"Mutant {i} ({mutation}) took {clock.Elapsed.TotalMilliseconds:F0} ms.");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Reading never extracts: only the two files this test wrote exist under the root.
        Assert.Equal([Path.Combine("target", "fuzzed.onnxsbi"), Path.Combine("target", "good.onnxsbi")], root.ListFiles());
        foreach (var (outcome, count) in outcomes.OrderByDescending(p => p.Value)) output.WriteLine($"{count,4}  {outcome}");
        output.WriteLine($"slowest read: {slowest.TotalMilliseconds:F1} ms");
        int refused = outcomes.Where(p => p.Key.StartsWith("refused", StringComparison.Ordinal)).Sum(p => p.Value);
        Assert.True(outcomes.Keys.Any(k => k.StartsWith("read", StringComparison.Ordinal)), "Some mutants (e.g. trailing bytes) should still read.");
        Assert.True(refused > Mutants / 2, $"Most mutants should break the bundle; {refused} of {Mutants} were refused.");
    }

    private static byte[] Mutate(Mutation mutation, byte[] original, List<(string Name, byte[] Data)> entries, Random random)
    {
        switch (mutation)
        {
            case Mutation.FlipBytes:
                return Flip(original, random, random.Next(1, 9));
            case Mutation.Truncate:
                return original[..random.Next(original.Length)];
            case Mutation.AppendGarbage:
                return [.. original, .. RandomBytes(random, random.Next(1, 64))];
            case Mutation.DuplicateEntry:
            {
                var copy = new List<(string, byte[])>(entries);
                var (name, data) = entries[random.Next(entries.Count)];
                copy.Insert(random.Next(copy.Count + 1), (name, random.Next(2) == 0 ? data : Flip(data, random, 3)));
                return TestBundles.Zip(copy);
            }
            case Mutation.RenameEntry:
                return TestBundles.Zip(Renamed(entries, random));
            case Mutation.DropEntry:
            {
                var copy = new List<(string, byte[])>(entries);
                copy.RemoveAt(random.Next(copy.Count));
                return TestBundles.Zip(copy);
            }
            case Mutation.FlipManifestText:
                return TestBundles.Zip(entries.Select(e => e.Name == TestBundles.ManifestEntry ? (e.Name, FlipText(e.Data, random)) : e));
            case Mutation.FlipGraphAndResign:
            {
                // Damage the graph but record its new checksum, so the ONNX parser and the
                // signature checks see the damage instead of the SHA-256 check.
                byte[] graph = Flip(entries.Single(e => e.Name == TestBundles.VelocityPath).Data, random, random.Next(1, 5));
                var manifest = TestBundles.ParseManifest(entries.Single(e => e.Name == TestBundles.ManifestEntry).Data);
                manifest.Graphs[0].Sha256 = TestBundles.Sha256(graph);
                return TestBundles.Zip(entries.Select(e => e.Name switch
                {
                    TestBundles.VelocityPath => (e.Name, graph),
                    TestBundles.ManifestEntry => (e.Name, TestBundles.FormatManifest(manifest)),
                    _ => e,
                }));
            }
            case Mutation.RenameAndFlip:
                return Flip(TestBundles.Zip(Renamed(entries, random)), random, 2);
            default:
                throw new ArgumentOutOfRangeException(nameof(mutation), mutation, null);
        }
    }

    /// <summary>The kind of problem a refusal names, without the variable parts (names, sizes, hashes).</summary>
    private static string Problem(string message)
    {
        string[] words = message.Split(' ');
        return string.Join(' ', words.Take(5).Select(w => w.Any(char.IsDigit) || w.Contains('\'') ? "…" : w));
    }

    private static List<(string, byte[])> Renamed(List<(string Name, byte[] Data)> entries, Random random)
    {
        var copy = new List<(string, byte[])>(entries);
        int k = random.Next(copy.Count);
        string name = random.Next(4) == 0 ? Encoding.ASCII.GetString(RandomBytes(random, random.Next(1, 12)).Select(b => (byte)(33 + b % 94)).ToArray())
                                          : HostileNames[random.Next(HostileNames.Length)];
        copy[k] = (name, entries[k].Data);
        return copy;
    }

    /// <summary>Replaces a few characters of a JSON text with JSON-significant ones, so the parser sees structure damage, not only bad bytes.</summary>
    private static byte[] FlipText(byte[] text, Random random)
    {
        const string Alphabet = "{}[]\",:0123456789-.eE \\nulltrue";
        byte[] copy = (byte[])text.Clone();
        int n = random.Next(1, 4);
        for (int i = 0; i < n; i++) copy[random.Next(copy.Length)] = (byte)Alphabet[random.Next(Alphabet.Length)];
        return copy;
    }

    private static byte[] Flip(byte[] bytes, Random random, int count)
    {
        byte[] copy = (byte[])bytes.Clone();
        for (int i = 0; i < count; i++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
        return copy;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] b = new byte[length];
        random.NextBytes(b);
        return b;
    }
}
