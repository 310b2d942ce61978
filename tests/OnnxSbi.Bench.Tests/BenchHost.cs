using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OnnxSbi.Bench.Tests;

/// <summary>
/// Runs the real <c>onnxsbi-bench</c> executable as a child process. The test project references the bench
/// project, so <c>dotnet test</c> (of this project or of the solution) builds it first, in the same configuration,
/// at bench/OnnxSbi.Bench/bin/&lt;Config&gt;/net10.0/.
/// </summary>
internal static class BenchHost
{
    /// <summary>The directory holding OnnxSbi.sln, above the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string DllPath { get; } = Locate();

    /// <summary>A bundle shipped in models/two_moons, e.g. "affine_coupling_flow".</summary>
    public static string ShippedBundle(string name) => Path.Combine(RepositoryRoot, "models", "two_moons", name + ".onnxsbi");

    private static string FindRoot()
    {
        string? root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "OnnxSbi.sln"))) root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar));
        return root ?? throw new InvalidOperationException($"No OnnxSbi.sln above '{AppContext.BaseDirectory}'.");
    }

    private static string Locate()
    {
        string config = typeof(BenchHost).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string tfm = Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.Combine(RepositoryRoot, "bench", "OnnxSbi.Bench", "bin", config, tfm, "onnxsbi-bench.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException(
            $"onnxsbi-bench was not built at '{dll}'; build tests/OnnxSbi.Bench.Tests (it references the bench project).", dll);
    }

    private static string DotnetExecutable()
    {
        // Under `dotnet test` the test host itself runs on the dotnet muxer; the SDK also exports its path.
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    /// <summary>Starts onnxsbi-bench with <paramref name="args"/> in <paramref name="workingDirectory"/>; output is collected.</summary>
    public static Running Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DllPath);
        foreach (string a in args) info.ArgumentList.Add(a);
        return new Running(Process.Start(info) ?? throw new InvalidOperationException("Could not start onnxsbi-bench."));
    }

    /// <summary>Runs onnxsbi-bench with <paramref name="args"/> in <paramref name="workingDirectory"/> to completion (at most <paramref name="timeout"/>).</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        using var running = Start(workingDirectory, args);
        return running.WaitForExit(timeout);
    }

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

        public (int ExitCode, string StdOut, string StdErr) WaitForExit(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
                throw new TimeoutException($"onnxsbi-bench did not finish within {timeout}. Output so far:\n{Output()}");
            }
            Process.WaitForExit(); // drains the asynchronous output readers
            return (Process.ExitCode, Text(stdout), Text(stderr));
        }

        public string Output() => Text(stdout) + Text(stderr);

        private static string Text(StringBuilder sb) { lock (sb) return sb.ToString(); }

        public void Dispose()
        {
            if (!Process.HasExited) { Process.Kill(entireProcessTree: true); Process.WaitForExit(); }
            Process.Dispose();
        }
    }
}
