using OnnxSbi.TestSupport;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// Runs the real <c>onnxsbi-train</c> executable as a child process. The test project references the
/// host project with ReferenceOutputAssembly=false, so <c>dotnet test</c> (of this project or of the
/// solution) builds it first, in the same configuration, at trainer/OnnxSbi.Trainer.Host/bin/&lt;Config&gt;/net10.0/.
/// </summary>
internal static class TrainerHost
{
    public static string DllPath { get; } = Repository.BuiltProgram("trainer/OnnxSbi.Trainer.Host", "onnxsbi-train", "tests/OnnxSbi.Trainer.Tests");

    /// <summary>Starts the host with <paramref name="args"/> in <paramref name="workingDirectory"/>; output is collected.</summary>
    public static ChildProgram Start(string workingDirectory, params string[] args) => ChildProgram.Start(DllPath, workingDirectory, args);

    /// <summary>Runs the host to completion (at most <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string workingDirectory, TimeSpan timeout, params string[] args)
        => ChildProgram.Run(DllPath, workingDirectory, timeout, args);
}
