using OnnxSbi.TestSupport;

namespace OnnxSbi.Runtime.Cli.Tests;

/// <summary>Runs the <c>onnxsbi</c> command line in-process; the real executable runs through <see cref="ChildProgram"/>.</summary>
internal static class Onnxsbi
{
    /// <summary>Parses and runs <paramref name="args"/> in this process, capturing what the verb writes.</summary>
    public static (int ExitCode, string StdOut, string StdErr) InProcess(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = OnnxsbiCli.Run(args, new CliConsole(stdout, stderr), CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The built program of <paramref name="projectDirectory"/>; this test project references it, so it is built first.</summary>
    public static string Program(string projectDirectory, string assemblyName)
        => Repository.BuiltProgram(projectDirectory, assemblyName, "tests/OnnxSbi.Runtime.Cli.Tests");

    /// <summary>The real onnxsbi executable.</summary>
    public static string Dll => Program("runtime/OnnxSbi.Runtime.Cli", "onnxsbi");
}
