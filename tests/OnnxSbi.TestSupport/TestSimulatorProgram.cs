namespace OnnxSbi.TestSupport;

/// <summary>
/// The built tests/OnnxSbi.TestSimulator (two moons behind the simulator protocol, misbehaving on request) as the shell
/// command an <c>ExternalSimulator</c> or <c>onnxsbi-train --simulator-command</c> runs.
/// </summary>
public static class TestSimulatorProgram
{
    /// <summary>The command that runs the simulator with <paramref name="args"/>, each quoted for /bin/sh.</summary>
    /// <param name="testProject">The test project that references tests/OnnxSbi.TestSimulator (named in the error when it was not built).</param>
    /// <param name="args">The simulator's flags, e.g. "--crash-always".</param>
    public static string Command(string testProject, params string[] args)
    {
        string dll = Repository.BuiltProgram("tests/OnnxSbi.TestSimulator", "OnnxSbi.TestSimulator", testProject);
        return string.Join(" ", new[] { ChildProgram.DotnetExecutable(), dll }.Concat(args).Select(a => $"'{a}'"));
    }
}
