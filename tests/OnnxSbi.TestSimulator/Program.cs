// The two-moons simulator speaking protocol version 1 (docs/simulator-protocol.md): one JSON request line on standard
// input, {"protocol": 1, "batch_size": N, "seed": S}, answered on standard output by an 8-byte little-endian length and
// an NPZ archive holding theta [N, 2] and x [N, 2]. It exits when standard input closes.
//
// Misbehaviours for the tests, chosen by arguments:
//   --crash-after K        answer K requests, then exit with code 3 on the next, saying so on standard error
//   --crash-always         the same with K = 0
//   --sleep SECONDS        sleep before every answer
//   --wrong-rows           x has N + 1 rows
//   --missing NAME         leave the variable out
//   --nan-row R            x[R, 1] is NaN
//   --shape-change-after K x has shape [N, 3] after K answers
//   --garbage              print a line of text on standard output instead of answering
//   --huge-length          answer with a length prefix of 2^40 bytes and nothing after it
//   --ignore-eof           keep running after standard input closes (until killed)
//   --pid-dir DIR          write an empty file named after the process id into DIR at start
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i < args.Length; i++)
{
    string name = args[i];
    bool flag = name is "--crash-always" or "--wrong-rows" or "--garbage" or "--huge-length" or "--ignore-eof";
    options[name] = flag ? "" : i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
}
int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
int crashAfter = options.ContainsKey("--crash-always") ? 0 : Int("--crash-after", int.MaxValue);
int shapeChangeAfter = Int("--shape-change-after", int.MaxValue);
int nanRow = Int("--nan-row", -1);
double sleep = options.TryGetValue("--sleep", out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : 0;
if (options.TryGetValue("--pid-dir", out var pidDir)) File.WriteAllText(Path.Combine(pidDir, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)), "");

using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
using var stdout = Console.OpenStandardOutput();
int answered = 0;
while (stdin.ReadLine() is { } line)
{
    using var request = JsonDocument.Parse(line);
    var root = request.RootElement;
    if (root.GetProperty("protocol").GetInt32() != 1) throw new InvalidDataException($"Unsupported protocol in request {line}.");
    int rows = root.GetProperty("batch_size").GetInt32();
    ulong seed = root.GetProperty("seed").GetUInt64();
    Console.Error.WriteLine($"test simulator: request {answered + 1}, batch_size {rows}, seed {seed}");
    if (answered >= crashAfter)
    {
        Console.Error.WriteLine($"test simulator: crashing on purpose at request {answered + 1}");
        return 3;
    }
    if (sleep > 0) Thread.Sleep(TimeSpan.FromSeconds(sleep));
    if (options.ContainsKey("--garbage"))
    {
        stdout.Write(Encoding.ASCII.GetBytes("Hello from the simulator, this is not NPZ\n"));
        stdout.Flush();
        continue;
    }
    var prefix = new byte[8];
    if (options.ContainsKey("--huge-length"))
    {
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, 1UL << 40);
        stdout.Write(prefix);
        stdout.Flush();
        continue;
    }

    var batch = TwoMoons.CreateSimulator(seed).Sample(rows, seed);
    var arrays = new List<KeyValuePair<string, NpyArray>>();
    foreach (string name in batch.Names)
    {
        if (options.TryGetValue("--missing", out var missing) && missing == name) continue;
        double[] data = batch.Get(name);
        long leading = rows;
        long width = 2;
        if (name == TwoMoons.Observations)
        {
            if (nanRow >= 0) data[nanRow * 2 + 1] = double.NaN;
            if (options.ContainsKey("--wrong-rows")) { data = [.. data, 0, 0]; leading = rows + 1; }
            if (answered >= shapeChangeAfter) { data = new double[rows * 3]; width = 3; }
        }
        arrays.Add(new(name, new NpyArray(data, leading, width)));
    }
    using var archive = new MemoryStream();
    NpzArchive.Write(archive, arrays);
    BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)archive.Length);
    stdout.Write(prefix);
    archive.Position = 0;
    archive.CopyTo(stdout);
    stdout.Flush();
    answered++;
}
if (options.ContainsKey("--ignore-eof"))
{
    Console.Error.WriteLine("test simulator: standard input closed; ignoring it");
    Thread.Sleep(Timeout.Infinite);
}
return 0;
