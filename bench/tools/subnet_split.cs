#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
#:package Microsoft.ML.OnnxRuntime.Gpu
using System.Diagnostics;
using OnnxSbi.Runtime;

// A coupling flow's sampling with the subnets' thin layers on the host (the "subnet-split" pass, the runtime's CPU
// path) against the same with whole subnets in ONNX Runtime (RuntimeOptions.DisabledPasses = ["subnet-split"]):
// two models of one bundle, each one 512-row block, one thread, no spinning, timing Sample of 512 draws at one
// observation, the two interleaved in ROUNDS rounds of RUNS calls each, in one process; medians per call.
// usage: dotnet run -c Release bench/tools/subnet_split.cs -- BUNDLE [fp32|int8] [ROUNDS] [RUNS]
//   e.g. … models/two_moons/affine_coupling_flow.onnxsbi fp32 9 300
if (args.Length is < 1 or > 4 || (args.Length > 1 && args[1] is not ("fp32" or "int8")))
{
    Console.Error.WriteLine("usage: dotnet run -c Release bench/tools/subnet_split.cs -- BUNDLE [fp32|int8] [ROUNDS] [RUNS]");
    return 2;
}
string path = args[0];
var precision = args.Length > 1 && args[1] == "int8" ? NetworkPrecision.Int8 : NetworkPrecision.Float32;
int rounds = args.Length > 2 ? int.Parse(args[2]) : 9;
int runs = args.Length > 3 ? int.Parse(args[3]) : 300;
const int Draws = 512;
var options = new RuntimeOptions { Precision = precision, ChunkSize = Draws, ParallelBlocks = 1, IntraOpThreads = 1, AllowSpinning = false };
using var split = PosteriorModel.Load(path, options);
using var whole = PosteriorModel.Load(path, options with { DisabledPasses = ["subnet-split"] });
if (!split.Plan.AppliedPasses.Contains("subnet-split"))
{
    Console.Error.WriteLine($"{path}: the subnet split does not apply, so there is nothing to compare:{Environment.NewLine}{split.Plan.Describe()}");
    return 1;
}
Console.WriteLine($"{Path.GetFileName(path)} ({precision}): {split.Plan.Passes.Single(p => p.Name == "subnet-split").Detail}");
var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);   // one observation, x = (0, 0)
var sampling = new SamplingOptions { Seed = 1 };
double Time(PosteriorModel model)
{
    var clock = Stopwatch.StartNew();
    for (int k = 0; k < runs; k++) model.Sample(x, Draws, sampling);
    return clock.Elapsed.TotalMicroseconds / runs;
}
Time(split);   // warm-up: the sessions' first runs, the pools, JIT
Time(whole);
var ts = new List<double>();
var tw = new List<double>();
for (int r = 0; r < rounds; r++)
{
    ts.Add(Time(split));
    tw.Add(Time(whole));
}
double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
Console.WriteLine($"per call of {Draws} draws: host layers {Median(ts):F1} µs, whole subnets {Median(tw):F1} µs; whole / split {Median(tw) / Median(ts):F3} (medians of {rounds} rounds × {runs})");
Console.WriteLine($"  rounds, host layers: {string.Join(" ", ts.Select(t => t.ToString("F0")))}");
Console.WriteLine($"  rounds, whole:       {string.Join(" ", tw.Select(t => t.ToString("F0")))}");
return 0;
