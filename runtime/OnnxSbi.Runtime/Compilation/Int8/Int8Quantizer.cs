using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Rewrites a float graph for <see cref="NetworkPrecision.Int8"/>: every hidden-layer <c>Gemm</c> whose
/// weight is a constant becomes ONNX Runtime's <c>com.microsoft.DynamicQuantizeMatMul</c>, which quantizes
/// its input to uint8 per call (one scale and zero point over the block), multiplies by int8 weights and
/// rescales to float, adding the float bias. Weights are quantized once, here, symmetrically per output
/// column: w ≈ scale_n · q, q ∈ [−R, R], scale_n = max_k |w_kn| / R.
/// </summary>
/// <remarks>
/// Only layers with at least <see cref="MinDimension"/> inputs and outputs are rewritten: they carry nearly
/// all the FLOPs (a (256,)×6 MLP: 5 of its 7 Gemms, 99% of the multiply-adds), while the first layer reads the
/// raw parameters, time and conditions (one 8-bit scale over all of them would be too coarse for a thin
/// posterior) and the last layer writes the output. R is 127 where ONNX Runtime's u8×s8 kernel accumulates
/// products exactly (<see cref="U8S8Accumulation.Exact"/>) and 63 elsewhere: the AVX2 and AVX-512 kernels
/// without VNNI sum pairs of products in saturating 16-bit lanes (VPMADDUBSW), which 255·127·2 = 64770
/// overflows and 255·63·2 = 32130 does not, as ONNX Runtime's own quantization tool's reduce_range does.
/// </remarks>
internal static class Int8Quantizer
{
    /// <summary>Smallest input and output width of a Gemm that is quantized.</summary>
    public const int MinDimension = 32;

    /// <summary>How ONNX Runtime's u8×s8 matrix kernel accumulates on the CPU the process runs on.</summary>
    public static U8S8Accumulation Accumulation { get; } = DetectAccumulation();

    /// <summary>The weight range R used on the CPU the process runs on: 127 where <see cref="Accumulation"/> is exact, 63 elsewhere.</summary>
    public static int WeightRange { get; } = Accumulation == U8S8Accumulation.Exact ? 127 : 63;

    /// <summary>Returns the rewritten model (the input itself when nothing is replaced) and the number of Gemms replaced.</summary>
    /// <exception cref="InvalidProtocolBufferException">The bytes are not an ONNX model.</exception>
    public static (byte[] Model, int Replaced) Quantize(byte[] model, int weightRange)
    {
        var edit = new GraphEdit(model);
        int replaced = Quantize(edit, weightRange);
        return replaced == 0 ? (model, 0) : (edit.ToBytes(), replaced);
    }

    /// <summary>Rewrites the graph of <paramref name="edit"/> in place; returns the number of Gemms replaced.</summary>
    public static int Quantize(GraphEdit edit, int weightRange)
    {
        var graph = edit.Graph;
        int replaced = 0;
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (!edit.TryReadGemm(node, out float[] w, out long k, out long n, out bool transB)) continue;
            if (k < MinDimension || n < MinDimension) continue;
            string bias = node.Input.Count > 2 ? node.Input[2] : "";
            if (bias.Length > 0 && !(edit.Initializers.TryGetValue(bias, out var b) && b.Dims.Count == 1 && b.Dims[0] == n)) continue;

            var q = new sbyte[k * n];
            var scales = new float[n];
            for (long col = 0; col < n; col++)
            {
                float max = 0;
                for (long row = 0; row < k; row++) max = Math.Max(max, Math.Abs(w[transB ? col * k + row : row * n + col]));
                float scale = max > 0 ? max / weightRange : 1f;
                scales[col] = scale;
                for (long row = 0; row < k; row++)
                {
                    float v = w[transB ? col * k + row : row * n + col];
                    q[row * n + col] = (sbyte)Math.Clamp(MathF.Round(v / scale), -weightRange, weightRange);
                }
            }
            string weightName = edit.AddInitializer(node.Input[1] + "_int8", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(q.AsSpan()), k, n);
            string scaleName = edit.AddFloats(node.Input[1] + "_scale", scales, n);

            var rewritten = new NodeProto { OpType = "DynamicQuantizeMatMul", Domain = "com.microsoft", Name = edit.Fresh(node.Name + "_int8") };
            rewritten.Input.Add([node.Input[0], weightName, scaleName, "", bias]);
            rewritten.Output.Add(node.Output[0]);
            graph.Node[i] = rewritten;
            replaced++;
        }
        if (replaced > 0 && !edit.Model.OpsetImport.Any(o => o.Domain == "com.microsoft"))
            edit.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return replaced;
    }

    /// <summary>
    /// ONNX Runtime's choice of u8×s8 kernel (MLAS, platform.cpp), read from the same CPUID bits it reads rather
    /// than from /proc/cpuinfo, so that the answer holds on every OS and under an emulator. MLAS takes AVX2 (pairs),
    /// then AVX-VNNI (exact); where the CPU has AVX-512 F/BW/DQ/VL and the OS saves its state, the AVX-512 kernel
    /// replaces either (pairs), and AVX-512 VNNI replaces that (exact). .NET's Avx512F.IsSupported stands for the
    /// OS state; it can also be off by configuration, so full range is claimed only when both of MLAS's possible
    /// kernels are exact. Every mismatch between this reading and MLAS's errs towards <see cref="U8S8Accumulation.SaturatingPairs"/>.
    /// </summary>
    private static U8S8Accumulation DetectAccumulation()
    {
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64) return U8S8Accumulation.Exact;
        if (!X86Base.IsSupported || !Avx2.IsSupported || !Fma.IsSupported) return U8S8Accumulation.Unknown;
        static bool Bit(int register, int bit) => (register >> bit & 1) == 1;
        var (_, ebx7, ecx7, _) = X86Base.CpuId(7, 0);
        var (eax71, _, _, _) = X86Base.CpuId(7, 1);
        bool avxVnni = Bit(eax71, 4);
        bool avx512Core = Bit(ebx7, 16) && Bit(ebx7, 17) && Bit(ebx7, 30) && Bit(ebx7, 31);
        bool avx512Vnni = Bit(ecx7, 11);
        bool exact = avx512Core ? avx512Vnni && (Avx512F.IsSupported || avxVnni) : avxVnni;
        return exact ? U8S8Accumulation.Exact : U8S8Accumulation.SaturatingPairs;
    }
}

/// <summary>How ONNX Runtime's u8×s8 matrix kernel sums the products of a uint8 input and int8 weights.</summary>
internal enum U8S8Accumulation
{
    /// <summary>Straight into 32-bit sums: VNNI dot products on x86-64, the ARM64 kernels.</summary>
    Exact,

    /// <summary>Pairs of products first, in saturating 16-bit lanes (VPMADDUBSW: AVX2, AVX-512 without VNNI).</summary>
    SaturatingPairs,

    /// <summary>A kernel this rule does not model (x86-64 without AVX2 and FMA, other architectures); treated as saturating.</summary>
    Unknown,
}
