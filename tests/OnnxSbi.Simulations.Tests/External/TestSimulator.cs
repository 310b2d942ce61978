using Microsoft.Extensions.Logging;
using OnnxSbi.Simulations.External;
using OnnxSbi.TestSupport;

namespace OnnxSbi.Simulations.Tests.External;

/// <summary>The built tests/OnnxSbi.TestSimulator (two moons behind the protocol, misbehaving on request) as a command line.</summary>
internal static class TestSimulator
{
    /// <summary>The shell command that runs the test simulator with <paramref name="args"/>.</summary>
    public static string Command(params string[] args) => TestSimulatorProgram.Command("OnnxSbi.Simulations.Tests", args);

    /// <summary>Options for the test simulator with <paramref name="args"/>; short timeouts so failures are quick.</summary>
    public static ExternalSimulatorOptions Options(params string[] args) => new()
    {
        Command = Command(args),
        BatchTimeout = TimeSpan.FromSeconds(20),
        ShutdownGrace = TimeSpan.FromSeconds(1),
    };

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (Directory.Exists("/proc"))
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                char state = stat[stat.LastIndexOf(')') + 2];
                return state is not ('Z' or 'X');
            }
            catch (IOException) { return false; }
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for every process to be gone; returns those still alive.</summary>
    public static List<int> StillAlive(IEnumerable<int> pids, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        List<int> alive;
        while ((alive = pids.Where(IsAlive).ToList()).Count > 0 && clock.Elapsed < timeout) Thread.Sleep(50);
        return alive;
    }

    /// <summary>The process ids the test simulators wrote into <paramref name="directory"/> (--pid-dir).</summary>
    public static List<int> WrittenPids(string directory) => Directory.GetFiles(directory).Select(f => int.Parse(Path.GetFileName(f))).ToList();

}

/// <summary>An ILogger that keeps every message, so a test can read what the simulator logged.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get { lock (entries) return [.. entries]; }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries) entries.Add((logLevel, formatter(state, exception)));
    }
}

/// <summary>A temporary directory, deleted with its contents on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "onnxsbi-extsim-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a child may still hold it on some platforms; the OS temp cleaner removes it */ }
    }
}
