using System.Security.Cryptography;
using System.Text.Json;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Tests;

/// <summary>
/// Refactoring guard: for a fixed seed and fixed options, every shipped bundle gives bit-identical draws (and, for the
/// coupling flows, log densities) to those recorded in ShippedDrawsGolden.json. ONNX Runtime picks its matrix kernels
/// by instruction set, so draws are recorded per instruction-set class; a class with no recording is skipped with its
/// name, and <c>ONNXSBI_RECORD_GOLDEN=1 dotnet test --filter ShippedDrawsIdentityTests</c> adds it.
/// </summary>
public class ShippedDrawsIdentityTests
{
    private static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "ShippedDrawsGolden.json");

    /// <summary>The configurations pinned: every family's default path and every alternative execution strategy.</summary>
    public static TheoryData<string> Cases() => new(CaseTable.Keys);

    private static readonly Dictionary<string, (string Bundle, RuntimeOptions Runtime, SamplingOptions Sampling)> CaseTable = new()
    {
        ["flow_matching/defaults"] = ("flow_matching", new(), new() { Seed = 11 }),
        ["flow_matching/int8"] = ("flow_matching", new() { Precision = NetworkPrecision.Int8 }, new() { Seed = 11 }),
        ["flow_matching/euler20"] = ("flow_matching", new(), new() { Seed = 12, Method = IntegratorKind.Euler, Steps = 20 }),
        ["flow_matching/tsit5"] = ("flow_matching", new(), new() { Seed = 13, Method = IntegratorKind.Tsit5 }),
        ["flow_matching/loop_graph"] = ("flow_matching", new() { SolverLoop = SolverLoopMode.Graph }, new() { Seed = 14 }),
        ["flow_matching/chunk200"] = ("flow_matching", new() { ChunkSize = 200, ParallelBlocks = 1 }, new() { Seed = 15 }),
        ["consistency_model/defaults"] = ("consistency_model", new(), new() { Seed = 21 }),
        ["consistency_model/int8"] = ("consistency_model", new() { Precision = NetworkPrecision.Int8 }, new() { Seed = 21 }),
        ["consistency_model/steps3"] = ("consistency_model", new(), new() { Seed = 22, Steps = 3 }),
        ["consistency_model/loop_graph"] = ("consistency_model", new() { SolverLoop = SolverLoopMode.Graph }, new() { Seed = 23 }),
        ["affine_coupling_flow/defaults"] = ("affine_coupling_flow", new(), new() { Seed = 31 }),
        ["affine_coupling_flow/int8"] = ("affine_coupling_flow", new() { Precision = NetworkPrecision.Int8 }, new() { Seed = 31 }),
        ["affine_coupling_flow/graph_inverse"] = ("affine_coupling_flow", new() { CouplingInverse = CouplingInverseMode.Graph }, new() { Seed = 32 }),
        ["spline_coupling_flow/defaults"] = ("spline_coupling_flow", new(), new() { Seed = 41 }),
        ["spline_coupling_flow/int8"] = ("spline_coupling_flow", new() { Precision = NetworkPrecision.Int8 }, new() { Seed = 41 }),
        ["spline_coupling_flow/graph_inverse"] = ("spline_coupling_flow", new() { CouplingInverse = CouplingInverseMode.Graph }, new() { Seed = 42 }),
    };

    /// <summary>Three observations × 700 draws: several blocks per call, and a block that spans two observations.</summary>
    private static readonly double[] Observations = [0.0, 0.0, 0.3, -0.2, -0.5, 0.4];

    /// <summary>Exact equality is the point: a refactoring that changes one bit of one draw is a behaviour change.</summary>
    [RecordedTheory]
    [MemberData(nameof(Cases))]
    public void ShippedBundle_FixedSeedAndOptions_DrawsMatchRecording(string name)
    {
        var (bundle, runtime, sampling) = CaseTable[name];
        string isa = InstructionSetClass();
        string key = $"{isa}/{name}";
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath(bundle), runtime);
        var draws = model.Sample(new ArrayBatch(3).Set("x", Observations, 2), 700, sampling);
        string digest = Digest(draws["theta"]);
        if (model.HasDensity)
            digest += ";" + Digest(model.LogProb(new ArrayBatch(6).Set("theta", draws["theta"].AsSpan(0, 12).ToArray(), 2), new ArrayBatch(1).Set("x", [0.0, 0.0], 2)));

        var golden = ReadGolden();
        if (Environment.GetEnvironmentVariable("ONNXSBI_RECORD_GOLDEN") == "1")
        {
            lock (GoldenLock)
            {
                golden = ReadGolden(SourceGoldenPath());
                golden[key] = digest;
                File.WriteAllText(SourceGoldenPath(), JsonSerializer.Serialize(new SortedDictionary<string, string>(golden), new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
            return;
        }
        Assert.True(golden.TryGetValue(key, out string? expected), $"No recording for {key}: a case was added without recording it.");
        Assert.Equal(expected, digest);
    }

    private static readonly Lock GoldenLock = new();

    /// <summary>
    /// The CPU features that select ONNX Runtime's float and int8 kernels on x86-64, read with CPUID (as ONNX Runtime
    /// reads them) rather than from /proc/cpuinfo, so that an emulated CPU reports its own features.
    /// </summary>
    internal static string InstructionSetClass()
    {
        var arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture;
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return arch.ToString().ToLowerInvariant();
        static bool Bit(int register, int bit) => (register >> bit & 1) == 1;
        var (_, _, ecx1, _) = System.Runtime.Intrinsics.X86.X86Base.CpuId(1, 0);
        var (_, ebx7, ecx7, edx7) = System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 0);
        var (eax71, _, _, _) = System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 1);
        var features = new (string Name, bool Present)[]
        {
            ("avx2", Bit(ebx7, 5)), ("fma", Bit(ecx1, 12)), ("avx512f", Bit(ebx7, 16)), ("avx512bw", Bit(ebx7, 30)),
            ("avx512_vnni", Bit(ecx7, 11)), ("avx_vnni", Bit(eax71, 4)), ("amx_int8", Bit(edx7, 25)),
        };
        var parts = features.Where(f => f.Present).Select(f => f.Name).ToList();
        return arch.ToString().ToLowerInvariant() + (parts.Count == 0 ? "" : "-" + string.Join("-", parts));
    }

    private static string Digest(IEnumerable<double> values)
    {
        var bytes = values.SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>Skips the theory, naming the class, on an instruction-set class with no recording (unless recording).</summary>
    private sealed class RecordedTheoryAttribute : TheoryAttribute
    {
        public RecordedTheoryAttribute()
        {
            if (Environment.GetEnvironmentVariable("ONNXSBI_RECORD_GOLDEN") == "1") return;
            string isa = InstructionSetClass();
            if (!ReadGolden().Keys.Any(k => k.StartsWith(isa + "/", StringComparison.Ordinal)))
                Skip = $"No recording for instruction-set class '{isa}'; record one with ONNXSBI_RECORD_GOLDEN=1 on a checkout whose draws are known good.";
        }
    }

    internal static Dictionary<string, string> ReadGolden(string? path = null)
    {
        path ??= GoldenPath;
        return File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
            : [];
    }

    private static string SourceGoldenPath() => Path.Combine(
        Path.GetDirectoryName(Path.GetDirectoryName(ShippedModelsTests.BundlePath("x")))!, "..", "tests", "OnnxSbi.Runtime.Tests", "ShippedDrawsGolden.json");
}
