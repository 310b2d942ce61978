#:package Microsoft.ML.OnnxRuntime.Gpu
#:project ../../runtime/OnnxSbi.Runtime/OnnxSbi.Runtime.csproj
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;

// Where the time goes inside one graph: ONNX Runtime's profiler, kernel time per operator type.
// usage: dotnet run -c Release bench/tools/op_profile.cs -- BUNDLE ROLE ROWS RUNS [THREADS] [exported|exported-int8|fp32|int8]
//   e.g. … models/two_moons/affine_coupling_flow.onnxsbi inverse 3000 30   (1 thread, inputs sin-filled)
//        … models/two_moons/flow_matching.onnxsbi velocity 512 100 1 exported   (the graph as the bundle stores it)
//        … models/two_moons/flow_matching.onnxsbi velocity 512 100 1 fp32       (as the runtime's sessions run it)
string path = args[0]; string role = args[1]; int rows = int.Parse(args[2]); int runs = int.Parse(args[3]);
int threads = args.Length > 4 ? int.Parse(args[4]) : 1;
string form = args.Length > 5 ? args[5] : "exported";
var contents = BundleReader.Read(path);
byte[] graph = contents.Graphs[role];
graph = form switch
{
    "exported" => graph,
    "exported-int8" => GraphCompiler.Prepare(graph, [], NetworkPrecision.Int8), // quantized, not rewritten (no residual blocks declared)
    "fp32" => GraphCompiler.Prepare(contents, role, new RuntimeOptions { Precision = NetworkPrecision.Float32 }),
    "int8" => GraphCompiler.Prepare(contents, role, new RuntimeOptions { Precision = NetworkPrecision.Int8 }),
    _ => throw new ArgumentException($"form must be exported, exported-int8, fp32 or int8; got '{form}'"),
};
using var so = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
so.EnableProfiling = true;
using var session = new InferenceSession(graph, so);
var feeds = new List<NamedOnnxValue>();
foreach (var (name, meta) in session.InputMetadata)
{
    long cols = meta.Dimensions[1];
    var data = Enumerable.Range(0, (int)(rows * cols)).Select(i => (float)Math.Sin(i) * 0.7f).ToArray();
    feeds.Add(NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(data, [rows, (int)cols])));
}
for (int r = 0; r < runs; r++) using (session.Run(feeds)) { }
string file = session.EndProfiling();
var doc = JsonDocument.Parse(File.ReadAllText(file));
File.Delete(file); // ONNX Runtime writes it to the working directory
var byOp = new Dictionary<string, (double Us, int N)>();
double total = 0; int nodes = 0;
foreach (var e in doc.RootElement.EnumerateArray())
{
    if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time")) continue;
    string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
    double us = e.GetProperty("dur").GetDouble();
    var cur = byOp.GetValueOrDefault(op); byOp[op] = (cur.Us + us, cur.N + 1); total += us; nodes++;
}
Console.WriteLine($"{role} ({form}, {rows} rows, {threads} thread(s)): {nodes / runs} kernels per run, {total / runs / 1000:F2} ms per run in kernels");
foreach (var (op, v) in byOp.OrderByDescending(kv => kv.Value.Us))
    Console.WriteLine($"  {op,-24} {v.N / runs,5} nodes  {v.Us / runs / 1000,8:F3} ms  {100 * v.Us / total,5:F1}%");
