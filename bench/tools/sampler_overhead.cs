#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
#:package Microsoft.ML.OnnxRuntime.Gpu
using System.Diagnostics;
using System.IO.Compression;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Runtime;

// How much of a sampling call is spent outside the network (integrator, noise, adapter, copies).
// usage: dotnet run -c Release bench/tools/sampler_overhead.cs -- BUNDLE ROLE EVALS_PER_DRAW [repeats] [steps]
//   e.g. … models/two_moons/flow_matching.onnxsbi velocity 100 3   (RK4, 25 steps = 100 evaluations)
// Times PosteriorModel.Sample(3,000 draws at x = 0) against the same number of bare RunWithBinding calls
// of the bundle's graph on the same chunks (5 × 512 + 440 rows), same session settings (1 thread, no
// spinning), interleaved; the difference is everything outside the network.
string path = args[0]; string role = args[1]; int evals = int.Parse(args[2]);
int repeats = args.Length > 3 ? int.Parse(args[3]) : 5;
int? steps = args.Length > 4 ? int.Parse(args[4]) : null;
byte[] graph;
using (var zip = ZipFile.OpenRead(path))
using (var s = zip.GetEntry($"graphs/{role}.onnx")!.Open())
using (var ms = new MemoryStream()) { s.CopyTo(ms); graph = ms.ToArray(); }
using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
using var session = new InferenceSession(graph, so);
var inputs = session.InputMetadata.Keys.ToArray();
var outputs = session.OutputMetadata.Keys.ToArray();
const int Chunk = 512, Draws = 3000;
int[] chunks = [.. Enumerable.Repeat(Chunk, Draws / Chunk), .. Draws % Chunk > 0 ? new[] { Draws % Chunk } : []];
var bindings = new List<(OrtIoBinding B, List<OrtValue> V)>();
foreach (int rows in chunks.Distinct())
{
    var b = session.CreateIoBinding(); var vals = new List<OrtValue>();
    foreach (var name in inputs)
    {
        long cols = session.InputMetadata[name].Dimensions[1];
        var v = OrtValue.CreateTensorValueFromMemory(new float[rows * cols].Select((_, i) => (float)Math.Sin(i) * 0.5f).ToArray(), [rows, cols]);
        if (name == "t") v = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(0.5f, rows).ToArray(), [rows, 1]);
        vals.Add(v); b.BindInput(name, v);
    }
    foreach (var name in outputs)
    {
        long cols = session.OutputMetadata[name].Dimensions.Length > 1 ? session.OutputMetadata[name].Dimensions[1] : 1;
        var v = OrtValue.CreateTensorValueFromMemory(new float[rows * cols], session.OutputMetadata[name].Dimensions.Length > 1 ? [rows, cols] : [rows]);
        vals.Add(v); b.BindOutput(name, v);
    }
    bindings.Add((b, vals));
}
using var ro = new RunOptions();
using var model = PosteriorModel.Load(path, new RuntimeOptions { IntraOpThreads = 1, AllowSpinning = false, ChunkSize = Chunk });
var cond = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
var opts = new SamplingOptions { Seed = 1, Steps = steps };
double Bare()
{
    long t0 = Stopwatch.GetTimestamp();
    for (int e = 0; e < evals; e++)
        foreach (int rows in chunks)
            session.RunWithBinding(ro, bindings[rows == Chunk ? 0 : 1].B);
    return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
}
double Full() { long t0 = Stopwatch.GetTimestamp(); model.Sample(cond, Draws, opts); return Stopwatch.GetElapsedTime(t0).TotalMilliseconds; }
Bare(); Full();
var bare = new List<double>(); var full = new List<double>();
for (int r = 0; r < repeats; r++) { bare.Add(Bare()); full.Add(Full()); }
bare.Sort(); full.Sort();
Console.WriteLine($"{Path.GetFileName(path)} {role}: bare network {evals} evals x {Draws} rows: median {bare[repeats/2]:F1} ms (best {bare[0]:F1}); model.Sample {Draws}: median {full[repeats/2]:F1} ms (best {full[0]:F1}); outside the network {100*(full[repeats/2]-bare[repeats/2])/full[repeats/2]:F1}% (best/best {100*(full[0]-bare[0])/full[0]:F1}%)");
