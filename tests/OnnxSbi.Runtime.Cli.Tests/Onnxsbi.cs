using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OnnxSbi.Runtime.Cli.Tests;

/// <summary>Runs the <c>onnxsbi</c> command line, in-process or as the real executable in a child process.</summary>
internal static class Onnxsbi
{
    /// <summary>The directory holding OnnxSbi.sln, above the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Parses and runs <paramref name="args"/> in this process, capturing what the verb writes.</summary>
    public static (int ExitCode, string StdOut, string StdErr) InProcess(params string[] args)
    {
        using StringWriter stdout = new(), stderr = new();
        int code = OnnxsbiCli.Run(args, new CliConsole(stdout, stderr), CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// The built <c>PROGRAM.dll</c> of <paramref name="projectDirectory"/> (relative to the repository root), in the
    /// configuration and target framework of this test assembly; the test project references the program's project, so it is built first.
    /// </summary>
    public static string Program(string projectDirectory, string assemblyName)
    {
        string config = typeof(Onnxsbi).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string tfm = System.IO.Path.GetFileName(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        string dll = System.IO.Path.Combine(RepositoryRoot, projectDirectory, "bin", config, tfm, assemblyName + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"'{dll}' was not built; build tests/OnnxSbi.Runtime.Cli.Tests (it references the program's project).", dll);
    }

    /// <summary>The real onnxsbi executable.</summary>
    public static string Dll => Program("runtime/OnnxSbi.Runtime.Cli", "onnxsbi");

    /// <summary>Starts <paramref name="dll"/> with <paramref name="args"/> in <paramref name="workingDirectory"/>; its output is collected.</summary>
    public static Running Start(string dll, string workingDirectory, params string[] args)
    {
        string? self = Environment.ProcessPath;
        string dotnet = self is not null && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("ONNXSBI_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        return new Running(Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{dll}'."));
    }

    /// <summary>Runs <paramref name="dll"/> to completion (at most <paramref name="timeout"/>).</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string dll, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        using var running = Start(dll, workingDirectory, args);
        return running.WaitForExit(timeout);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "OnnxSbi.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"No OnnxSbi.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>A started child process whose standard output and error are collected as they come.</summary>
    internal sealed class Running : IDisposable
    {
        private readonly StringBuilder stdout = new(), stderr = new();

        public Running(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string StdErr { get { lock (stderr) return stderr.ToString(); } }

        public (int ExitCode, string StdOut, string StdErr) WaitForExit(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
                throw new TimeoutException($"'{Process.StartInfo.ArgumentList[0]}' did not finish within {timeout}. Output so far:\n{stdout}{StdErr}");
            }
            Process.WaitForExit(); // drains the asynchronous output readers
            lock (stdout) return (Process.ExitCode, stdout.ToString(), StdErr);
        }

        public void Dispose()
        {
            if (!Process.HasExited) { Process.Kill(entireProcessTree: true); Process.WaitForExit(); }
            Process.Dispose();
        }
    }
}
