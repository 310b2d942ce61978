#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
#:package Microsoft.ML.OnnxRuntime.Gpu
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Samplers;

// The native coupling inverse with the subnets' thin layers on the host (SubnetSplit, the runtime's CPU path)
// against the same pass with whole subnets in ONNX Runtime: one 512-row block, one thread, no spinning, the
// two interleaved in ROUNDS rounds of RUNS passes each, in one process; medians per pass.
// usage: dotnet run -c Release bench/tools/subnet_split.cs -- BUNDLE [fp32|int8] [ROUNDS] [RUNS]
//   e.g. … models/two_moons/affine_coupling_flow.onnxsbi fp32 9 300
// or:    dotnet run -c Release bench/tools/subnet_split.cs -- widths
//   one thin layer alone, 512 rows, one thread: the host's SubnetTail (64 → N) and SubnetHead (kept + 2
//   conditions → 64, one observation) against ONNX Runtime's Gemm of the same shape, for the split's limits.
if (args[0] == "widths")
{
    Widths();
    return;
}
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
    return s.Open(new InferenceSession(GraphCompiler.Prepare(s.Model, [], precision), so));
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

static void Widths()
{
    const int Rows = 512, Runs = 2000;
    var rng = new Random(1);
    float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
    double Median(Action run)
    {
        var t = new List<double>();
        for (int r = 0; r < 7; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Runs; i++) run();
            t.Add(clock.Elapsed.TotalMicroseconds / Runs);
        }
        return t.Order().ElementAt(3);
    }
    double Gemm(int k, int n)
    {
        var g = new GraphBuilder("layer");
        string x = g.Input("x", null, k);
        g.Node("Gemm", [x, g.Initializer("w", R(n * k), n, k), g.Initializer("b", R(n), n)], "y", ("transB", 1L));
        g.Output("y", null, n);
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(g.Build(new OnnxModelInfo("subnet_split", "1")).ToByteArray(), so);
        using var binding = session.CreateIoBinding();
        using var input = OrtValue.CreateTensorValueFromMemory(R(Rows * k), [Rows, k]);
        using var output = OrtValue.CreateTensorValueFromMemory(new float[Rows * n], [Rows, n]);
        binding.BindInput("x", input);
        binding.BindOutput("y", output);
        using var options = new RunOptions();
        return Median(() => session.RunWithBinding(options, binding));
    }
    foreach (int n in new[] { 1, 2, 4, 8, 16 })
    {
        var tail = new SubnetTail(R(n * 64), R(n), 64, n);
        var h = R(Rows * 64);
        var y = new float[Rows * n];
        Console.WriteLine($"last layer 64 → {n,2}: host {Median(() => tail.Apply(h, Rows, y)),6:F2} µs, ONNX Runtime Gemm {Gemm(64, n),6:F2} µs");
    }
    foreach (int kept in new[] { 1, 2, 3, 4, 8 })
    {
        var head = new SubnetHead(R((kept + 2) * 64), R(64), kept, 2, 64);
        var state = R(Rows * kept);
        var conditions = new float[Rows * 2];
        var o = new float[Rows * 64];
        var share = new float[64];
        Console.WriteLine($"first layer {kept} + 2 → 64: host {Median(() => head.Apply(o, state, kept, 0, conditions, Rows, share)),6:F2} µs, ONNX Runtime Gemm {Gemm(kept + 2, 64),6:F2} µs");
    }
}
