#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
#:package Microsoft.ML.OnnxRuntime.Gpu
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Sampling;

// The native coupling inverse with the subnets' thin layers on the host (SubnetSplit, the runtime's CPU path)
// against the same pass with whole subnets in ONNX Runtime: one 512-row block, one thread, no spinning, the
// two interleaved in ROUNDS rounds of RUNS passes each, in one process; medians per pass.
// usage: dotnet run -c Release bench/tools/subnet_split.cs -- BUNDLE [fp32|int8] [ROUNDS] [RUNS]
//   e.g. … models/two_moons/affine_coupling_flow.onnxsbi fp32 9 300
string path = args[0];
var precision = args.Length > 1 && args[1] == "int8" ? NetworkPrecision.Int8 : NetworkPrecision.Float32;
int rounds = args.Length > 2 ? int.Parse(args[2]) : 9;
int runs = args.Length > 3 ? int.Parse(args[3]) : 300;
const int Rows = 512;
var contents = BundleReader.Read(path);
var plan = contents.CouplingPlan ?? throw new ArgumentException($"{path} is not a coupling flow with inverse steps.");
int d = contents.Manifest.InferenceDim, c = contents.Manifest.ConditionDim;
OnnxFunction Open(SubnetSplit s)
{
    using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
    return s.Open(new InferenceSession(PosteriorModel.Prepare(s.Model, precision), so));
}
using var split = NativeCouplingInverse.Open(plan, Open, d, c, hostLayers: true);
using var whole = NativeCouplingInverse.Open(plan, Open, d, c, hostLayers: false);
var first = SubnetSplit.Of(plan.Subnets[0], c);
Console.WriteLine($"{Path.GetFileName(path)} ({precision}): {plan.Subnets.Count} subnets; host first layer {first.Head is not null}, host last layer {first.Tail is not null}; graph [{first.InputWidth} → {first.OutputWidth}] of [{plan.Subnets[0].InputWidth} → {plan.Subnets[0].OutputWidth}]");
var rng = new Random(1);
var z = Enumerable.Range(0, Rows * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
var state = new float[z.Length];
using var blockSplit = split.Rent(Rows);
using var blockWhole = whole.Rent(Rows);
for (int i = 0; i < Rows * c; i++) blockSplit.Conditions[i] = blockWhole.Conditions[i] = 0;   // one observation, x = (0, 0)
double Time(NativeCouplingInverse inverse, NativeCouplingInverse.Block block)
{
    var clock = Stopwatch.StartNew();
    for (int k = 0; k < runs; k++)
    {
        z.CopyTo(state, 0);
        inverse.Inverse(state, block);
    }
    return clock.Elapsed.TotalMicroseconds / runs;
}
Time(split, blockSplit);   // warm-up: sessions' first runs, JIT
Time(whole, blockWhole);
var ts = new List<double>();
var tw = new List<double>();
for (int r = 0; r < rounds; r++)
{
    ts.Add(Time(split, blockSplit));
    tw.Add(Time(whole, blockWhole));
}
double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
Console.WriteLine($"per {Rows}-row block: host layers {Median(ts):F1} µs, whole subnets {Median(tw):F1} µs; whole / split {Median(tw) / Median(ts):F3} (medians of {rounds} rounds × {runs})");
Console.WriteLine($"  rounds, host layers: {string.Join(" ", ts.Select(t => t.ToString("F0")))}");
Console.WriteLine($"  rounds, whole:       {string.Join(" ", tw.Select(t => t.ToString("F0")))}");
