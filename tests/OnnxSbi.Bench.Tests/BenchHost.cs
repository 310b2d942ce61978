using OnnxSbi.TestSupport;

namespace OnnxSbi.Bench.Tests;

/// <summary>
/// Runs the real <c>onnxsbi-bench</c> executable as a child process. The test project references the bench
/// project, so <c>dotnet test</c> (of this project or of the solution) builds it first, in the same configuration,
/// at bench/OnnxSbi.Bench/bin/&lt;Config&gt;/net10.0/.
/// </summary>
internal static class BenchHost
{
    public static string DllPath { get; } = Repository.BuiltProgram("bench/OnnxSbi.Bench", "onnxsbi-bench", "tests/OnnxSbi.Bench.Tests");

    /// <summary>Starts onnxsbi-bench with <paramref name="args"/> in <paramref name="workingDirectory"/>; output is collected.</summary>
    public static ChildProgram Start(string workingDirectory, params string[] args) => ChildProgram.Start(DllPath, workingDirectory, args);

    /// <summary>Runs onnxsbi-bench with <paramref name="args"/> in <paramref name="workingDirectory"/> to completion (at most <paramref name="timeout"/>).</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string workingDirectory, TimeSpan timeout, params string[] args)
        => ChildProgram.Run(DllPath, workingDirectory, timeout, args);
}
