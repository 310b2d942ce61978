#:package Microsoft.ML.OnnxRuntime.Gpu
#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Runtime;

// Whether a long-lived model's memory stays flat when every call asks for a different number of draws: each
// call's last block has its own row count (draws mod the chunk size), and the runtime keeps buffers and an
// IoBinding per block size it has seen.
// usage: dotnet run -c Release bench/tools/pool_memory.cs -- [CALLS] [MAX_DRAWS] [REPORT_EVERY] [BUNDLE ...]
//   e.g. … 10000 1024 500 models/two_moons/spline_coupling_flow.onnxsbi   (one process per bundle keeps each peak its own)
// Each call draws Uniform{1 … MAX_DRAWS} draws for one observation (seeded, the same sequence for every
// bundle) with the runtime's default options; flow matching and the consistency model take one step
// (SamplingOptions.Steps = 1), which keeps the calls cheap without changing what is pooled. Prints the
// process's resident set (VmRSS) and its peak (VmHWM) after loading and every REPORT_EVERY calls; each
// bundle is loaded, sampled and disposed in turn, in the same process.
int calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
int maxDraws = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
int every = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
string[] bundles = args.Length > 3
    ? args[3..]
    : Directory.GetFiles(Path.Combine(Root(), "models", "two_moons"), "*.onnxsbi").Order(StringComparer.Ordinal).ToArray();

static string Root()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "OnnxSbi.sln"))) return dir.FullName;
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "OnnxSbi.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("OnnxSbi.sln not found above the working directory; pass the bundles' paths.");
}

static (double Rss, double Peak) Memory()
{
    double rss = 0, peak = 0;
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) / 1024.0;
        else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) / 1024.0;
    }
    return (rss, peak);
    static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

string Row(string bundle, long done, double seconds)
{
    var (rss, peak) = Memory();
    return string.Create(CultureInfo.InvariantCulture, $"{bundle,-22} {done,7} {rss,9:F1} {peak,9:F1} {GC.GetTotalMemory(false) / 1048576.0,9:F1} {seconds,8:F1}");
}

Console.WriteLine($"calls {calls}, draws Uniform{{1 … {maxDraws}}}, {Environment.ProcessorCount} cores, runtime defaults, steps 1 where the family has steps");
Console.WriteLine($"{"bundle",-22} {"calls",7} {"rss_mb",9} {"peak_mb",9} {"heap_mb",9} {"seconds",8}");
var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
foreach (string path in bundles)
{
    string name = Path.GetFileNameWithoutExtension(path);
    var random = new Random(2026);
    var clock = Stopwatch.StartNew();
    using (var model = PosteriorModel.Load(path))
    {
        Console.WriteLine(Row(name, 0, 0));
        for (int i = 1; i <= calls; i++)
        {
            int draws = random.Next(1, maxDraws + 1);
            model.Sample(x, draws, new SamplingOptions { Seed = (ulong)i, Steps = 1 });
            if (i % every == 0) Console.WriteLine(Row(name, i, clock.Elapsed.TotalSeconds));
        }
    }
    GC.Collect();
    Console.WriteLine(Row(name + " (disposed)", calls, clock.Elapsed.TotalSeconds));
}
