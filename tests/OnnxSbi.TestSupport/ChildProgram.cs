using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OnnxSbi.TestSupport;

/// <summary>
/// A built .NET program (e.g. onnxsbi, onnxsbi-train, onnxsbi-bench) run as a child process on the dotnet muxer,
/// with its standard output and error collected as they come. The child sees no ONNXSBI_* variable of the test
/// process, so its configuration is exactly what the test passes.
/// </summary>
public sealed class ChildProgram : IDisposable
{
    private readonly StringBuilder stdout = new(), stderr = new();

    private ChildProgram(Process process, string name)
    {
        Process = process;
        Name = name;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The running process; owned (and disposed) by this object.</summary>
    public Process Process { get; }

    /// <summary>The program's name, its assembly's file name without extension.</summary>
    public string Name { get; }

    /// <summary>What the program has written to standard error so far.</summary>
    public string StdErr => Text(stderr);

    /// <summary>What the program has written so far: standard output, then standard error.</summary>
    public string Output() => Text(stdout) + Text(stderr);

    /// <summary>
    /// Starts <paramref name="dll"/> with <paramref name="args"/> in <paramref name="workingDirectory"/>, adding
    /// <paramref name="environment"/> (may be null) to its environment.
    /// </summary>
    public static ChildProgram Start(string dll, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string name = Path.GetFileNameWithoutExtension(dll);
        var info = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("ONNXSBI_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        if (environment is not null) foreach (var (key, value) in environment) info.Environment[key] = value;
        return new ChildProgram(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name} ('{dll}')."), name);
    }

    /// <summary>Starts <paramref name="dll"/> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    public static ChildProgram Start(string dll, string workingDirectory, params string[] args) => Start(dll, workingDirectory, null, args);

    /// <summary>Runs <paramref name="dll"/> to completion (at most <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string dll, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var running = Start(dll, workingDirectory, environment, args);
        return running.WaitForExit(timeout);
    }

    /// <summary>Runs <paramref name="dll"/> to completion (at most <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string dll, string workingDirectory, TimeSpan timeout, params string[] args)
        => Run(dll, workingDirectory, timeout, null, args);

    /// <summary>Sends SIGTERM (what a service manager or <c>kill</c> sends) to the program; POSIX only.</summary>
    public void Terminate()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            throw new PlatformNotSupportedException("Sending SIGTERM needs POSIX signals (Linux or macOS).");
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// Waits for the program to exit and returns its exit code and complete output; kills it (and its children) and
    /// throws <see cref="TimeoutException"/> with the output so far if it runs longer than <paramref name="timeout"/>.
    /// </summary>
    public (int ExitCode, string StdOut, string StdErr) WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
            throw new TimeoutException($"{Name} did not finish within {timeout}. Output so far:\n{Output()}");
        }
        Process.WaitForExit(); // drains the asynchronous output readers
        return (Process.ExitCode, Text(stdout), Text(stderr));
    }

    /// <summary>Kills the program (and its children) if it is still running, and releases the process.</summary>
    public void Dispose()
    {
        if (!Process.HasExited) { Process.Kill(entireProcessTree: true); Process.WaitForExit(); }
        Process.Dispose();
    }

    private static string Text(StringBuilder sb) { lock (sb) return sb.ToString(); }

    /// <summary>The dotnet muxer the tests run on, which runs a built program's dll.</summary>
    public static string DotnetExecutable()
    {
        // Under `dotnet test` the test host itself runs on the dotnet muxer; the SDK also exports its path.
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }
}
