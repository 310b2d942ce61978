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
/// posterior) and the last layer writes the output. R is 127 where the CPU has VNNI dot products (or is
/// ARM64); elsewhere on x86 it is 63, because the AVX2 u8×s8 kernel sums pairs of products in saturating
/// 16-bit lanes (255·127·2 overflows them; 255·63·2 does not), as ONNX Runtime's own quantization tool's
/// reduce_range does.
/// </remarks>
internal static class Int8Quantizer
{
    /// <summary>Smallest input and output width of a Gemm that is quantized.</summary>
    public const int MinDimension = 32;

    /// <summary>The weight range R used on this machine (127 or 63, see remarks).</summary>
    public static int WeightRange { get; } = HasVnni() ? 127 : 63;

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

    private static bool HasVnni()
    {
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64) return true;
        if (AvxVnni.IsSupported || Avx10v1.IsSupported) return true;
        // AVX-512 VNNI has no managed IsSupported probe; Linux lists it among the CPU flags.
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("flags", StringComparison.Ordinal))
                        return line.Contains(" avx512_vnni", StringComparison.Ordinal) || line.Contains(" avx_vnni", StringComparison.Ordinal);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }
}
