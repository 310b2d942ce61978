using System.Numerics;
using System.Runtime.CompilerServices;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Noise;

using OnnxSbi.Runtime.Numerics;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>
/// A coupling flow's inverse pass z → θ run step by step (<see cref="CouplingPlan"/>): each coupling's
/// subnet in ONNX Runtime (its thin first and last layers on the host, <see cref="SubnetSplit"/>), and its
/// transform, the ActNorms and the permutations here, in place on the block's state. The arithmetic is the
/// exported inverse graph's, operation for operation (docs/algorithms.md#coupling-flows), so the two agree to float32
/// rounding; what changes is the cost: a few hundred small graph kernels per block become one pass over the
/// subnet outputs per coupling.
/// </summary>
internal sealed class NativeCouplingInverse : ICouplingInverse
{
    private static readonly float SoftplusOneShift = (float)Math.Log(Math.E - 1);

    private readonly SplineSpec? spline;
    private readonly Step[] steps;
    private readonly NativeSubnet[] subnets;
    private readonly int d;
    private readonly int c;
    private readonly int maxTransformed;
    private readonly int maxHeadWidth;
    private readonly int maxTailOutputs;
    // Scratch is managed memory: an evicted block size is left to the garbage collector.
    private readonly BlockPool<int, Block> blocks = new(OnnxFunction.DefaultMaxPooledShapes, static _ => { });
    private long rowsEvaluated;

    /// <summary>Takes ownership of <paramref name="subnets"/>, one per coupling step of <paramref name="plan"/>, in order (made by <see cref="Open"/>).</summary>
    private NativeCouplingInverse(CouplingPlan plan, IReadOnlyList<NativeSubnet> subnets, int inferenceDim, int conditionDim)
    {
        this.subnets = subnets.ToArray();
        spline = plan.Spline;
        d = inferenceDim;
        c = conditionDim;
        int k = 0;
        // The manifest's numbers copied out of the protobuf messages once, into what the loops read.
        steps = plan.Steps.Select(step => step.KindCase switch
        {
            InverseStep.KindOneofCase.ElementwiseAffine => new Step(step.KindCase, step.ElementwiseAffine.Scale.ToArray(), step.ElementwiseAffine.Shift.ToArray(), [], null, null),
            InverseStep.KindOneofCase.Permute => new Step(step.KindCase, [], [], step.Permute.Order.ToArray(), null, null),
            InverseStep.KindOneofCase.Linear => new Step(step.KindCase, step.Linear.Matrix.ToArray(), [], [], null, null),
            _ => new Step(step.KindCase, [], [], [], step.Coupling, k < this.subnets.Length ? this.subnets[k++] : null),
        }).ToArray();
        if (k != plan.Subnets.Count || k != this.subnets.Length)
            throw new ArgumentException($"The plan has {plan.Subnets.Count} coupling steps but {this.subnets.Length} subnets were given.", nameof(subnets));
        maxTransformed = steps.Where(st => st.Coupling is not null).Select(st => st.Coupling!.TransformedWidth).DefaultIfEmpty(0).Max();
        maxHeadWidth = this.subnets.Select(s => s.Head?.Width ?? 0).DefaultIfEmpty(0).Max();
        maxTailOutputs = this.subnets.Select(s => s.Tail?.Outputs ?? 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>
    /// Opens each subnet of <paramref name="plan"/> with <paramref name="open"/>, split first
    /// (<see cref="SubnetSplit.Of"/>) when <paramref name="hostLayers"/> is set; the functions opened are
    /// disposed if a later one fails. The split is for the CPU: on a GPU the thin layers cost little, and
    /// moving them to the host would copy the subnets' wide hidden layers between host and device instead
    /// of their few input and output columns.
    /// </summary>
    public static NativeCouplingInverse Open(CouplingPlan plan, Func<SubnetSplit, OnnxFunction> open, int inferenceDim, int conditionDim, bool hostLayers = true)
    {
        var opened = new List<NativeSubnet>();
        try
        {
            foreach (var s in plan.Subnets)
            {
                var split = hostLayers ? SubnetSplit.Of(s, conditionDim) : SubnetSplit.Whole(s);
                opened.Add(new NativeSubnet(open(split), split.Head, split.Tail));
            }
            return new NativeCouplingInverse(plan, opened, inferenceDim, conditionDim);
        }
        catch
        {
            foreach (var s in opened) s.Dispose();
            throw;
        }
    }

    public ExecutionStrategy Strategy => ExecutionStrategy.NativeCouplingInverse;

    /// <summary>Subnets whose first layer runs on the host.</summary>
    public int HostHeads => subnets.Count(s => s.Head is not null);

    /// <summary>Subnets whose last layer runs on the host.</summary>
    public int HostTails => subnets.Count(s => s.Tail is not null);

    /// <summary>Draws z into <paramref name="destination"/> and runs the inverse pass on it in place.</summary>
    public void Sample(in BlockRequest request, Span<float> destination, NormalGenerator noise)
    {
        using var block = Rent(request.Rows);
        request.FillConditions(block.Conditions);
        noise.Fill(destination);
        Inverse(destination, block);
    }

    /// <summary>Rows pushed through the whole inverse pass so far.</summary>
    public long RowsEvaluated => Interlocked.Read(ref rowsEvaluated);

    /// <summary>
    /// Rents the buffers of one block of <paramref name="rows"/> rows (its condition rows and scratch), to fill
    /// <see cref="Block.Conditions"/> and pass to <see cref="Inverse"/>; disposing it returns them.
    /// </summary>
    public Block Rent(int rows)
    {
        int capacity = OnnxFunction.CapacityFor(rows);
        var block = blocks.TryTake(capacity, out var pooled) ? pooled : new Block(this, capacity);
        block.Rows = rows;
        return block;
    }

    /// <summary>
    /// Replaces z by θ in <paramref name="state"/> [rows, D], with <see cref="Block.Conditions"/> the condition
    /// row of every state row [rows, C]. Allocation-free once a block of this size has been rented before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Inverse(Span<float> state, Block block)
    {
        int rows = block.Rows;
        foreach (var step in steps)
        {
            switch (step.Kind)
            {
                case InverseStep.KindOneofCase.ElementwiseAffine:
                    ElementwiseAffine(state, rows, step.First, step.Second);
                    break;
                case InverseStep.KindOneofCase.Permute:
                    Permute(state, rows, step.Order, block);
                    break;
                case InverseStep.KindOneofCase.Linear:
                    Linear(state, rows, step.First, block);
                    break;
                case InverseStep.KindOneofCase.Coupling:
                    Coupling(state, block.Conditions, rows, step.Coupling!, step.Subnet!, block);
                    break;
            }
        }
        Interlocked.Add(ref rowsEvaluated, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ElementwiseAffine(Span<float> state, int rows, float[] scale, float[] shift)
    {
        // Same order as the graph's Add(Mul(z, scale), shift).
        for (int r = 0; r < rows; r++)
        {
            var row = state.Slice(r * d, d);
            for (int j = 0; j < d; j++) row[j] = row[j] * scale[j] + shift[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Permute(Span<float> state, int rows, int[] order, Block block)
    {
        var copy = block.Row;
        for (int r = 0; r < rows; r++)
        {
            var row = state.Slice(r * d, d);
            row.CopyTo(copy);
            for (int j = 0; j < d; j++) row[j] = copy[order[j]];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Linear(Span<float> state, int rows, float[] matrix, Block block)
    {
        var copy = block.Row;
        for (int r = 0; r < rows; r++)
        {
            var row = state.Slice(r * d, d);
            row.CopyTo(copy);
            for (int j = 0; j < d; j++)
            {
                float sum = 0;
                for (int i = 0; i < d; i++) sum += copy[i] * matrix[i * d + j];
                row[j] = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Coupling(Span<float> state, ReadOnlySpan<float> conditions, int rows, CouplingInverse step, NativeSubnet subnet, Block block)
    {
        using var eval = subnet.Function.Rent(rows);
        int kept = step.KeptWidth, width = kept + c;
        var input = eval.Inputs[0];
        if (subnet.Head is { } head) head.Apply(input, state, d, step.KeptOffset, conditions, rows, block.Share);
        else
        {
            for (int r = 0; r < rows; r++)
            {
                int at = r * width, from = r * d + step.KeptOffset;
                for (int j = 0; j < kept; j++) input[at + j] = state[from + j];
                at += kept;
                from = r * c;
                for (int j = 0; j < c; j++) input[at + j] = conditions[from + j];
            }
        }
        eval.Run();
        ReadOnlySpan<float> raw = eval.Outputs[0];
        if (subnet.Tail is { } tail)
        {
            var y = block.TailOutputs.AsSpan(0, rows * tail.Outputs);
            tail.Apply(raw, rows, y);
            raw = y;
        }
        if (spline is not null) SplineInverse(state, rows, step, raw, spline, block);
        else AffineInverse(state, rows, step, raw, block);
    }

    /// <summary>
    /// x = (z − t)/s, s = softplus(asinh(s_raw) + ln(e − 1)) with softplus(y) = max(y, 0) + ln(1 + e^−|y|) and
    /// asinh(u) = sign(u)·ln(|u| + √(u² + 1)), vectorized over the block; raw is [rows, 2w]: scales, then shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AffineInverse(Span<float> state, int rows, CouplingInverse step, ReadOnlySpan<float> raw, Block block)
    {
        int w = step.TransformedWidth, n = rows * w;
        Span<float> s = block.A.AsSpan(0, n);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < w; j++) s[r * w + j] = raw[r * 2 * w + j];
        int i = 0;
        var shift = new Vector<float>(SoftplusOneShift);
        for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
        {
            var v = new Vector<float>(s.Slice(i));
            var u = Vector.Abs(v);
            var asinh = VectorMath.Log(u + Vector.SquareRoot(u * u + Vector<float>.One));
            var y = Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), -asinh, asinh) + shift;
            var softplus = Vector.Max(y, Vector<float>.Zero) + VectorMath.Log(Vector<float>.One + VectorMath.Exp(-Vector.Abs(y)));
            softplus.CopyTo(s.Slice(i));
        }
        for (; i < n; i++) s[i] = Softplus(MathF.Asinh(s[i]) + SoftplusOneShift);
        for (int r = 0; r < rows; r++)
        {
            int zBase = r * d + step.TransformedOffset, tBase = r * 2 * w + w;
            for (int j = 0; j < w; j++) state[zBase + j] = (state[zBase + j] - raw[tBase + j]) / s[r * w + j];
        }
    }

    /// <summary>
    /// The rational-quadratic spline's inverse (Durkan et al. 2019, eqs. 6–8), <see cref="Vector{T}.Count"/> values
    /// at a time, one per lane: widths and heights softmax·span + min, knots their cumulative sums plus −B, the
    /// bin the last whose y-knot is at or below the value (the graph's count of interior knots ≤ value: the knots
    /// increase strictly), ξ the stable root 2c/(−b − √(b² − 4ac)); the identity outside (−B, B).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SplineInverse(Span<float> state, int rows, CouplingInverse step, ReadOnlySpan<float> raw, SplineSpec spline, Block block)
    {
        int k = spline.Bins, p = 3 * k - 1, w = step.TransformedWidth, n = rows * w, lanes = Vector<float>.Count;
        var negBound = new Vector<float>((float)-spline.Bound);
        var posBound = new Vector<float>((float)spline.Bound);
        var minBin = new Vector<float>((float)spline.MinBinSize);
        var span = new Vector<float>((float)(2 * spline.Bound - spline.Bins * spline.MinBinSize));
        var two = new Vector<float>(2f);
        var shift = new Vector<float>(SoftplusOneShift);
        Span<float> q = block.Bins;               // [2K][lanes]: the group's raw widths, then heights, bin by bin
        Span<float> z = block.Lane0, dLo = block.Lane1, dHi = block.Lane2;
        Span<int> bin = block.LaneBins;
        for (int e0 = 0; e0 < n; e0 += lanes)
        {
            int count = Math.Min(lanes, n - e0);
            for (int l = 0; l < lanes; l++)
            {
                if (l < count)
                {
                    int e = e0 + l, r = e / w;
                    z[l] = state[r * d + step.TransformedOffset + e - r * w];
                    int from = e * p;
                    for (int i = 0; i < 2 * k; i++) q[i * lanes + l] = raw[from + i];
                }
                else
                {
                    z[l] = 0;
                    for (int i = 0; i < 2 * k; i++) q[i * lanes + l] = 0;
                }
            }
            var vz = new Vector<float>(z);
            var zc = Vector.Min(Vector.Max(vz, negBound), posBound);
            var inside = Vector.Equals(vz, zc);

            // Softmax numerators (shifted by the lane's maximum, as softmax is) and their sums.
            var maxW = new Vector<float>(q);
            var maxH = new Vector<float>(q.Slice(k * lanes));
            for (int i = 1; i < k; i++)
            {
                maxW = Vector.Max(maxW, new Vector<float>(q.Slice(i * lanes)));
                maxH = Vector.Max(maxH, new Vector<float>(q.Slice((k + i) * lanes)));
            }
            var sumW = Vector<float>.Zero;
            var sumH = Vector<float>.Zero;
            for (int i = 0; i < k; i++)
            {
                var ew = VectorMath.Exp(new Vector<float>(q.Slice(i * lanes)) - maxW);
                var eh = VectorMath.Exp(new Vector<float>(q.Slice((k + i) * lanes)) - maxH);
                ew.CopyTo(q.Slice(i * lanes));
                eh.CopyTo(q.Slice((k + i) * lanes));
                sumW += ew;
                sumH += eh;
            }

            // Walk the bins, keeping the last whose y-knot is ≤ the value: its knots, sizes and index.
            var cumW = Vector<float>.Zero;
            var cumH = Vector<float>.Zero;
            var xk = negBound;
            var yk = negBound;
            var width = Vector<float>.Zero;
            var height = Vector<float>.Zero;
            var lo = Vector<int>.Zero;
            for (int i = 0; i < k; i++)
            {
                var wi = new Vector<float>(q.Slice(i * lanes)) / sumW * span + minBin;
                var hi = new Vector<float>(q.Slice((k + i) * lanes)) / sumH * span + minBin;
                if (i == 0)
                {
                    width = wi;
                    height = hi;
                }
                else
                {
                    var knotY = cumH + negBound;
                    var at = Vector.GreaterThanOrEqual(zc, knotY);
                    xk = Vector.ConditionalSelect(at, cumW + negBound, xk);
                    yk = Vector.ConditionalSelect(at, knotY, yk);
                    width = Vector.ConditionalSelect(at, wi, width);
                    height = Vector.ConditionalSelect(at, hi, height);
                    lo = Vector.ConditionalSelect(at, new Vector<int>(i), lo);
                }
                cumW += wi;
                cumH += hi;
            }

            // Derivatives at the bin's two knots: 1 at the outer knots, softplus(raw + ln(e − 1)) inside.
            lo.CopyTo(bin);
            for (int l = 0; l < lanes; l++)
            {
                int b = bin[l], from = (e0 + l) * p + 2 * k;
                dLo[l] = l < count && b > 0 ? raw[from + b - 1] : 0;
                dHi[l] = l < count && b < k - 1 ? raw[from + b] : 0;
            }
            var dk = Vector.ConditionalSelect(Vector.Equals(lo, Vector<int>.Zero), Vector<float>.One, Softplus(new Vector<float>(dLo) + shift));
            var dk1 = Vector.ConditionalSelect(Vector.Equals(lo, new Vector<int>(k - 1)), Vector<float>.One, Softplus(new Vector<float>(dHi) + shift));

            var s = height / width;
            var dy = zc - yk;
            var curvature = dk1 + dk - two * s;
            var dyCurvature = dy * curvature;
            var a = height * (s - dk) + dyCurvature;
            var bq = height * dk - dyCurvature;
            var c = -(s * dy);
            var discriminant = Vector.Max(bq * bq - new Vector<float>(4f) * (a * c), Vector<float>.Zero);
            var xi = two * c / (-bq - Vector.SquareRoot(discriminant));
            var x = Vector.ConditionalSelect(inside, xk + xi * width, vz);
            x.CopyTo(z);
            for (int l = 0; l < count; l++)
            {
                int e = e0 + l, r = e / w;
                state[r * d + step.TransformedOffset + e - r * w] = z[l];
            }
        }
    }

    /// <summary>softplus(y) = max(y, 0) + ln(1 + e^−|y|) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Softplus(Vector<float> y)
        => Vector.Max(y, Vector<float>.Zero) + VectorMath.Log(Vector<float>.One + VectorMath.Exp(-Vector.Abs(y)));

    /// <summary>softplus(y) = max(y, 0) + ln(1 + e^−|y|), the graph's max(y, 0) − ln σ(|y|).</summary>
    private static float Softplus(float y) => MathF.Max(y, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(y)));

    public void Dispose()
    {
        foreach (var f in subnets) f.Dispose();
    }

    /// <summary>One step with the manifest's numbers as arrays: scale and shift, the matrix, or the order; or a coupling and its subnet.</summary>
    private sealed record Step(InverseStep.KindOneofCase Kind, float[] First, float[] Second, int[] Order, CouplingInverse? Coupling, NativeSubnet? Subnet);

    /// <summary>The condition rows and scratch of one block; one per concurrently running block. Dispose returns it.</summary>
    internal sealed class Block : IDisposable
    {
        private readonly NativeCouplingInverse owner;

        public Block(NativeCouplingInverse owner, int capacity)
        {
            this.owner = owner;
            Capacity = capacity;
            Conditions = new float[capacity * owner.c];
            Row = new float[owner.d];
            A = new float[capacity * owner.maxTransformed];
            Share = new float[owner.maxHeadWidth];
            TailOutputs = new float[capacity * owner.maxTailOutputs];
            int bins = owner.spline?.Bins ?? 0;
            Bins = new float[2 * bins * Vector<float>.Count];
        }

        /// <summary>The most rows the block's arrays hold (a capacity class of <see cref="OnnxFunction.CapacityFor"/>).</summary>
        public int Capacity { get; }

        /// <summary>The rows of the block it is rented for now, at most <see cref="Capacity"/>.</summary>
        public int Rows { get; set; }

        /// <summary>The condition row of every state row, [rows, C] in its first rows · C values, filled by the caller.</summary>
        public float[] Conditions { get; }

        public float[] Row { get; }

        public float[] A { get; }

        /// <summary>The conditions' share of a host-run first layer (<see cref="SubnetHead.Apply"/>).</summary>
        public float[] Share { get; }

        /// <summary>A host-run last layer's outputs, [rows, outputs].</summary>
        public float[] TailOutputs { get; }

        public float[] Bins { get; }

        public float[] Lane0 { get; } = new float[Vector<float>.Count];

        public float[] Lane1 { get; } = new float[Vector<float>.Count];

        public float[] Lane2 { get; } = new float[Vector<float>.Count];

        public int[] LaneBins { get; } = new int[Vector<float>.Count];

        public void Dispose() => owner.blocks.Return(Capacity, this);
    }
}
