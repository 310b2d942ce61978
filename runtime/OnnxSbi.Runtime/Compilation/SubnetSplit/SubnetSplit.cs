using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Execution;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// A coupling subnet with its thin first and last layers taken out of the graph, to run on the host around
/// the rest (<see cref="Samplers.NativeCouplingInverse"/>). A coupling subnet reads [kept half, conditions] — three
/// columns for Two Moons — and the affine flow's writes two. ONNX Runtime's Gemm does little useful work on
/// such thin products: a 2-wide output is computed in its kernels' 16-wide panels, and a 3-deep product is
/// mostly the call's fixed cost and the separate pass that broadcasts the bias, so the two thin layers take a
/// large share of the subnet's time (measured: docs/BENCHMARKS.md, "Thin subnet layers on the host"). On the
/// host the first layer is a sum of scaled weight rows, and the conditions' share of it is computed once per
/// condition instead of once per row and coupling; the last layer is a few dot products per row. Everything
/// between, the wide products and the activations, stays in ONNX Runtime, where int8 quantizes it.
/// </summary>
/// <param name="Model">The remaining graph: input <paramref name="Input"/> [N, InputWidth], output <paramref name="Output"/> [N, OutputWidth].</param>
/// <param name="Input">The remaining graph's input: the subnet's, or the first layer's output when <paramref name="Head"/> is set.</param>
/// <param name="InputWidth">Its width per row.</param>
/// <param name="Output">The remaining graph's output: the subnet's, or the last layer's input when <paramref name="Tail"/> is set.</param>
/// <param name="OutputWidth">Its width per row.</param>
/// <param name="Head">The first layer, when it runs on the host.</param>
/// <param name="Tail">The last layer, when it runs on the host.</param>
internal sealed record SubnetSplit(byte[] Model, string Input, int InputWidth, string Output, int OutputWidth, SubnetHead? Head, SubnetTail? Tail)
{
    /// <summary>
    /// The widest kept half whose first layer runs on the host: the host's cost grows with each kept column several
    /// times faster than the Gemm's, and beyond two columns the Gemm is the cheaper one (measured with
    /// `dotnet run -c Release bench/tools/subnet_split.cs -- widths`; docs/BENCHMARKS.md, "Thin subnet layers on the host").
    /// </summary>
    public const int MaxHostKeptWidth = 2;

    /// <summary>
    /// The widest last layer run on the host: the host's cost grows with each output, while ONNX Runtime's stays
    /// flat up to its kernels' 16-wide panel, and beyond four outputs the Gemm is the cheaper one (measured with the
    /// same tool).
    /// </summary>
    public const int MaxHostOutputWidth = 4;

    /// <summary>
    /// Splits <paramref name="subnet"/>, whose input is [kept half, <paramref name="conditionDim"/> conditions]:
    /// its first node goes to the host when it is a plain Gemm (float initializer weights and bias, alpha = beta
    /// = 1) reading only the subnet's input, with a kept half of at most <see cref="MaxHostKeptWidth"/>
    /// columns; its last node when it is such a Gemm writing the subnet's output, at most
    /// <see cref="MaxHostOutputWidth"/> wide (where the host is faster). Anything else stays in the graph, so a subnet
    /// of another shape runs whole.
    /// </summary>
    public static SubnetSplit Of(PlanSubnet subnet, int conditionDim)
    {
        var edit = new GraphEdit(subnet.Model);
        var graph = edit.Graph;
        int kept = subnet.InputWidth - conditionDim;
        string input = subnet.Input, output = subnet.Output;
        int inputWidth = subnet.InputWidth, outputWidth = subnet.OutputWidth;
        SubnetHead? head = null;
        SubnetTail? tail = null;

        var first = graph.Node.FirstOrDefault(n => n.Input.Contains(subnet.Input));
        if (kept <= MaxHostKeptWidth && first is not null && first.Output.Count == 1 && first.Output[0] != subnet.Output
            && graph.Node.Count(n => n.Input.Contains(subnet.Input)) == 1 && first.Input[0] == subnet.Input
            && TryReadLayer(edit, first, out var w, out int k, out int n, out bool transB, out var bias) && k == subnet.InputWidth)
        {
            // Input-major [K][N]: a row of the layer's output is the bias plus each input times its weight row.
            var byInput = transB ? Transpose(w, n, k) : w;
            head = new SubnetHead(byInput, bias, kept, conditionDim, n);
            graph.Node.Remove(first);
            input = first.Output[0];
            inputWidth = n;
            graph.Input.Clear();
            graph.Input.Add(CouplingPlan.FloatMatrix(input, n));
        }

        var last = graph.Node.LastOrDefault(x => x.Output.Contains(subnet.Output));
        if (last is not null && last.Input[0] != input && graph.Node.Count > 1
            && TryReadLayer(edit, last, out var wl, out int kl, out int nl, out bool transBl, out var biasl) && nl == subnet.OutputWidth && nl <= MaxHostOutputWidth)
        {
            // Output-major [N][K]: an output is the bias plus one dot product with a contiguous weight row.
            var byOutput = transBl ? wl : Transpose(wl, kl, nl);
            tail = new SubnetTail(byOutput, biasl, kl, nl);
            graph.Node.Remove(last);
            output = last.Input[0];
            outputWidth = kl;
            graph.Output.Clear();
            graph.Output.Add(CouplingPlan.FloatMatrix(output, kl));
        }

        return head is null && tail is null ? Whole(subnet) : new SubnetSplit(edit.ToBytes(), input, inputWidth, output, outputWidth, head, tail);
    }

    /// <summary>The subnet unsplit: the whole graph in ONNX Runtime.</summary>
    public static SubnetSplit Whole(PlanSubnet subnet) => new(subnet.Model, subnet.Input, subnet.InputWidth, subnet.Output, subnet.OutputWidth, null, null);

    /// <summary>The remaining graph as a function over <paramref name="session"/>, which must hold <see cref="Model"/> (possibly rewritten).</summary>
    public OnnxFunction Open(InferenceSession session) => new(session, [(Input, InputWidth)], [(Output, OutputWidth)]);

    /// <summary>A plain Gemm's weights and bias (<see cref="GraphEdit.TryReadGemm"/>, <see cref="GraphEdit.TryReadGemmBias"/>).</summary>
    private static bool TryReadLayer(GraphEdit edit, NodeProto node, out float[] w, out int k, out int n, out bool transB, out float[] bias)
    {
        bias = [];
        k = n = 0;
        if (!edit.TryReadGemm(node, out w, out long k64, out long n64, out transB) || !edit.TryReadGemmBias(node, n64, out bias)) return false;
        (k, n) = ((int)k64, (int)n64);
        return true;
    }

    private static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) t[j * rows + r] = m[r * cols + j];
        return t;
    }
}

/// <summary>
/// A subnet's first layer on the host: y = [kept, conditions]·W + b, with W input-major ([kept + C][width]).
/// </summary>
internal sealed class SubnetHead(float[] byInput, float[] bias, int kept, int conditions, int width)
{
    public int Kept { get; } = kept;

    public int Conditions { get; } = conditions;

    /// <summary>The layer's outputs, the width of the graph's input.</summary>
    public int Width { get; } = width;

    /// <summary>
    /// Writes the layer's output for <paramref name="rows"/> rows into <paramref name="output"/> [rows, Width]:
    /// row r's kept half is columns [keptOffset, keptOffset + Kept) of <paramref name="state"/> [rows, d], its
    /// conditions row r of <paramref name="conditions"/> [rows, C]. The conditions' share (bias included) is
    /// computed into <paramref name="share"/> [Width] once per run of equal condition rows — a block of draws
    /// for one observation computes it once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(Span<float> output, ReadOnlySpan<float> state, int d, int keptOffset, ReadOnlySpan<float> conditions, int rows, Span<float> share)
    {
        int c = Conditions, w = Width, lanes = Vector<float>.Count;
        // The loops below read and write through unchecked references; these are their bounds.
        if (output.Length < rows * w || share.Length < w || conditions.Length < rows * c || state.Length < rows * d || keptOffset + Kept > d)
            throw new ArgumentException($"Buffers too small for {rows} rows of a {Kept} + {c} → {w} layer.");
        ref float weights = ref MemoryMarshal.GetArrayDataReference(byInput);
        ref float sh = ref MemoryMarshal.GetReference(share);
        for (int r = 0; r < rows; r++)
        {
            if (r == 0 || !SameRow(conditions, r, c))
            {
                bias.CopyTo(share);
                for (int j = 0; j < c; j++)
                {
                    float a = conditions[r * c + j];
                    for (int i = 0; i < w; i++) share[i] += a * byInput[(Kept + j) * w + i];
                }
            }
            ref float row = ref MemoryMarshal.GetReference(output.Slice(r * w, w));
            var x = state.Slice(r * d + keptOffset, Kept);
            int at = 0;
            if (x.Length == 1)
            {
                // One kept column (a two-dimensional θ): one multiply-add per lane group.
                var x0 = new Vector<float>(x[0]);
                for (; at + lanes <= w; at += lanes)
                    (Vector.LoadUnsafe(ref sh, (nuint)at) + x0 * Vector.LoadUnsafe(ref weights, (nuint)at)).StoreUnsafe(ref row, (nuint)at);
            }
            for (; at + lanes <= w; at += lanes)
            {
                var acc = Vector.LoadUnsafe(ref sh, (nuint)at);
                for (int j = 0; j < x.Length; j++) acc += new Vector<float>(x[j]) * Vector.LoadUnsafe(ref weights, (nuint)(j * w + at));
                acc.StoreUnsafe(ref row, (nuint)at);
            }
            for (; at < w; at++)
            {
                float v = share[at];
                for (int j = 0; j < x.Length; j++) v += x[j] * byInput[j * w + at];
                Unsafe.Add(ref row, at) = v;
            }
        }
    }

    /// <summary>Whether condition row r equals row r − 1 (bitwise equal values give the same share).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameRow(ReadOnlySpan<float> conditions, int r, int c)
    {
        for (int j = 0; j < c; j++)
            if (BitConverter.SingleToInt32Bits(conditions[r * c + j]) != BitConverter.SingleToInt32Bits(conditions[(r - 1) * c + j])) return false;
        return true;
    }
}

/// <summary>A subnet's last layer on the host: y = h·W + b, with W output-major ([Outputs][Inputs]).</summary>
internal sealed class SubnetTail(float[] byOutput, float[] bias, int inputs, int outputs)
{
    /// <summary>The layer's inputs, the width of the graph's output.</summary>
    public int Inputs { get; } = inputs;

    /// <summary>The subnet's outputs.</summary>
    public int Outputs { get; } = outputs;

    /// <summary>Writes y [rows, Outputs] from the graph's output <paramref name="h"/> [rows, Inputs].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> h, int rows, Span<float> y)
    {
        int k = Inputs, n = Outputs, lanes = Vector<float>.Count;
        if (h.Length < rows * k || y.Length < rows * n)
            throw new ArgumentException($"Buffers too small for {rows} rows of a {k} → {n} layer.");
        ref float weights = ref MemoryMarshal.GetArrayDataReference(byOutput);
        ref float input = ref MemoryMarshal.GetReference(h);
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref Unsafe.Add(ref input, r * k);
            for (int o = 0; o < n; o++)
            {
                ref float wo = ref Unsafe.Add(ref weights, o * k);
                var acc = Vector<float>.Zero;
                int i = 0;
                for (; i + lanes <= k; i += lanes) acc += Vector.LoadUnsafe(ref row, (nuint)i) * Vector.LoadUnsafe(ref wo, (nuint)i);
                float sum = bias[o] + Vector.Sum(acc);
                for (; i < k; i++) sum += Unsafe.Add(ref row, i) * Unsafe.Add(ref wo, i);
                y[r * n + o] = sum;
            }
        }
    }
}

/// <summary>A split subnet ready to run: the remaining graph and the host layers around it. Owns the function.</summary>
internal sealed record NativeSubnet(OnnxFunction Function, SubnetHead? Head, SubnetTail? Tail) : IDisposable
{
    public void Dispose() => Function.Dispose();
}
