using System.Text;
using OnnxSbi.CommandLine;

namespace OnnxSbi.Runtime.Cli.Tests;

/// <summary>
/// docs/cli.md shows every program's and every verb's <c>--help</c>, as the real executables print it: a
/// <c>## PROGRAM VERB</c> heading and a fenced block each, between the GENERATED markers. Set
/// ONNXSBI_UPDATE_DOCS=1 to rewrite that part of the file instead of failing.
/// </summary>
public sealed class CliReferenceTests
{
    /// <summary>Every program documented: its name, project directory, assembly and verbs. A new program is one more line.</summary>
    private static readonly (string Name, string Project, string Assembly, string[] Verbs)[] Programs =
    [
        ("onnxsbi", "runtime/OnnxSbi.Runtime.Cli", "onnxsbi", ["sample", "log-prob", "inspect", "diagnose"]),
        ("onnxsbi-train", "trainer/OnnxSbi.Trainer.Host", "onnxsbi-train", ["train", "adapter"]),
        ("onnxsbi-bench", "bench/OnnxSbi.Bench", "onnxsbi-bench", ["two-moons", "benchmark", "c2st", "diagnose", "runtime", "torch", "files", "files make", "files throughput"]),
    ];

    private const string Begin = "<!-- BEGIN GENERATED: each program's and verb's --help; regenerate with ONNXSBI_UPDATE_DOCS=1 (see CliReferenceTests) -->";
    private const string End = "<!-- END GENERATED -->";
    private const string Regenerate = "ONNXSBI_UPDATE_DOCS=1 dotnet test tests/OnnxSbi.Runtime.Cli.Tests -c Release --filter FullyQualifiedName~CliReferenceTests";

    private static string DocPath => Path.Combine(Repository.Root, "docs", "cli.md");

    [Fact]
    public void CliReference_EqualsEveryVerbsHelp()
    {
        string expected = Generate();
        string doc = File.ReadAllText(DocPath).ReplaceLineEndings("\n");
        int begin = doc.IndexOf(Begin, StringComparison.Ordinal), end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"docs/cli.md lacks the markers '{Begin}' … '{End}'.");
        string actual = doc[(begin + Begin.Length)..end];
        if (actual == expected) return;
        if (Environment.GetEnvironmentVariable("ONNXSBI_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(DocPath, doc[..(begin + Begin.Length)] + expected + doc[end..]);
            return;
        }
        Assert.Fail($"docs/cli.md differs from the programs' --help. Regenerate it with\n  {Regenerate}\nFirst differences (- docs/cli.md, + --help):\n{Diff(actual, expected)}");
    }

    [Fact]
    public void CliReference_ListsEveryExitCode()
    {
        string doc = File.ReadAllText(DocPath);
        foreach (var (name, code) in new[] { ("Success", ExitCodes.Success), ("Failure", ExitCodes.Failure), ("Usage", ExitCodes.Usage), ("Input", ExitCodes.Input), ("Cancelled", ExitCodes.Cancelled) })
            Assert.True(doc.Contains($"| {code} |", StringComparison.Ordinal), $"docs/cli.md's exit-code table has no row for {code} ({name}).");
    }

    /// <summary>The generated part of docs/cli.md: for each program, its overview and each verb's help.</summary>
    private static string Generate()
    {
        var sb = new StringBuilder("\n");
        foreach (var (name, project, assembly, verbs) in Programs)
        {
            string dll = Onnxsbi.Program(project, assembly);
            foreach (string? verb in verbs.Prepend(null))
            {
                // A verb of a verb ("files make") is its words, then --help.
                string[] args = verb is null ? ["--help"] : [.. verb.Split(' '), "--help"];
                var (code, stdout, stderr) = ChildProgram.Run(dll, Repository.Root, TimeSpan.FromMinutes(1), args);
                Assert.True(code == 0, $"{name} {string.Join(" ", args)} exited with {code}: {stderr}");
                string help = string.Join("\n", stdout.ReplaceLineEndings("\n").Trim('\n').Split('\n').Select(l => l.TrimEnd()));
                sb.Append($"\n## {name}{(verb is null ? "" : " " + verb)}\n\n```text\n{help}\n```\n");
            }
        }
        return sb.Append('\n').ToString();
    }

    /// <summary>The first differing lines of <paramref name="actual"/> and <paramref name="expected"/>, with a line of context.</summary>
    private static string Diff(string actual, string expected)
    {
        string[] a = actual.Split('\n'), e = expected.Split('\n');
        int first = 0;
        while (first < a.Length && first < e.Length && a[first] == e[first]) first++;
        int tail = 0;
        while (tail < a.Length - first && tail < e.Length - first && a[^(tail + 1)] == e[^(tail + 1)]) tail++;
        var sb = new StringBuilder();
        if (first > 0) sb.AppendLine($"  {a[first - 1]}");
        foreach (string line in a[first..^tail].Take(20)) sb.AppendLine($"- {line}");
        foreach (string line in e[first..^tail].Take(20)) sb.AppendLine($"+ {line}");
        return sb.ToString();
    }
}
