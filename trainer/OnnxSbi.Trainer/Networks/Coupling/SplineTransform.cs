using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// The monotone rational-quadratic spline of Durkan et al. 2019 ("Neural Spline Flows"): K bins on
/// (−B, B) in both x and y, the identity outside (linear tails of slope 1). Per dimension the subnet
/// gives K raw widths, K raw heights and K − 1 raw interior derivatives:
/// widths  w = m + (2B − K·m)·softmax(raw)  (so every bin is at least m wide and they fill 2B),
/// knots   x_0 = −B, x_k = −B + Σ_{j&lt;k} w_j, x_K = B exactly (likewise y with the heights),
/// slopes  δ_k = softplus(raw + ln(e − 1)) inside and δ_0 = δ_K = 1 to match the tails.
/// A zero subnet gives equal bins and unit slopes: the identity. The bin of a point is the number of
/// interior knots at or below it (a compare and a sum, no search loop), so the exported graph uses
/// only GreaterOrEqual, Cast, ReduceSum and GatherElements to find it.
/// </summary>
internal sealed class SplineTransform : CouplingTransform
{
    private readonly int bins;
    private readonly double bound;
    private readonly double minBin;
    // Knots = sizes·Cumulative + KnotOffsets: column k sums the sizes before knot k, and the first and
    // last columns are zero, so the outer knots are exactly −B and B whatever the rounding of the sum.
    // Derivatives = slopes·Embedding + BoundarySlopes puts the K − 1 interior slopes between two 1s.
    // Products with 0 and 1 are exact, so both are exact rearrangements, written as MatMul because
    // ONNX Runtime's CumSum and Pad cost more than a small matrix product.
    private readonly float[] cumulative;
    private readonly float[] knotOffsets;
    private readonly float[] embedding;
    private readonly float[] boundarySlopes;
    private readonly Dictionary<(ScalarType, TorchSharp.DeviceType), Tensor[]> constants = [];

    public SplineTransform(int bins, double bound, double minBinSize)
    {
        this.bins = bins;
        this.bound = bound;
        minBin = minBinSize;
        cumulative = new float[bins * (bins + 1)];
        for (int j = 0; j < bins; j++)
            for (int k = j + 1; k < bins; k++)
                cumulative[j * (bins + 1) + k] = 1f;
        knotOffsets = new float[bins + 1];
        for (int k = 0; k < bins; k++) knotOffsets[k] = (float)-bound;
        knotOffsets[bins] = (float)bound;
        embedding = new float[(bins - 1) * (bins + 1)];
        for (int j = 0; j < bins - 1; j++) embedding[j * (bins + 1) + j + 1] = 1f;
        boundarySlopes = new float[bins + 1];
        boundarySlopes[0] = boundarySlopes[bins] = 1f;
    }

    public override int ParamsPerDim => 3 * bins - 1;

    private double Span => 2 * bound - bins * minBin;

    /// <summary>
    /// The spline for raw parameters [N, d·(3K − 1)]: x-knots, y-knots and derivatives at the knots,
    /// each [N, d, K + 1], and the bin widths and heights, each [N, d, K].
    /// </summary>
    /// <remarks>
    /// Bin sizes are used as computed, not as differences of neighbouring knots: a difference of two
    /// knots of size ~B loses ~B/w of float32's relative precision, and the slope h/w, whose logarithm
    /// is the log-determinant, would inherit it.
    /// </remarks>
    public (Tensor X, Tensor Y, Tensor Derivatives, Tensor Widths, Tensor Heights) Knots(Tensor raw, long dims)
    {
        using var scope = NewDisposeScope();
        var parts = raw.reshape(raw.shape[0], dims, ParamsPerDim).split([bins, bins, bins - 1], 2);
        var widths = nn.functional.softmax(parts[0], 2) * Span + minBin;
        var heights = nn.functional.softmax(parts[1], 2) * Span + minBin;
        var c = Constants(raw);
        var x = widths.matmul(c[0]) + c[1];
        var y = heights.matmul(c[0]) + c[1];
        var slopes = nn.functional.softplus(parts[2] + AffineTransform.SoftplusOneShift);
        var derivatives = slopes.matmul(c[2]) + c[3];
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), derivatives.MoveToOuterDisposeScope(),
            widths.MoveToOuterDisposeScope(), heights.MoveToOuterDisposeScope());
    }

    /// <summary>The constant matrices in the dtype and on the device of <paramref name="like"/>, made once.</summary>
    private Tensor[] Constants(Tensor like)
    {
        var key = (like.dtype, like.device_type);
        if (!constants.TryGetValue(key, out var c))
        {
            Tensor Make(float[] values, params long[] shape)
            {
                using var host = tensor(values, shape, dtype: ScalarType.Float32);
                return host.to(like.dtype, like.device).DetachFromDisposeScope();
            }
            c = [Make(cumulative, bins, bins + 1), Make(knotOffsets, bins + 1), Make(embedding, bins - 1, bins + 1), Make(boundarySlopes, bins + 1)];
            constants[key] = c;
        }
        return c;
    }

    public override (Tensor Z, Tensor LogDet) Forward(Tensor x, Tensor raw)
    {
        using var scope = NewDisposeScope();
        var (kx, ky, kd, kw, kh) = Knots(raw, x.shape[1]);
        var xc = x.clamp(-bound, bound);
        var inside = x.eq(xc);
        var v = xc.unsqueeze(2);
        var (lo, hi) = Locate(v, kx);
        var (xk, w) = (kx.gather(2, lo), kw.gather(2, lo));
        var (yk, h) = (ky.gather(2, lo), kh.gather(2, lo));
        var (dk, dk1) = (kd.gather(2, lo), kd.gather(2, hi));
        // Durkan et al. 2019, eq. 4 and its derivative (their eq. 5), with s = h/w and ξ ∈ [0, 1].
        var s = h / w;
        var xi = (v - xk) / w;
        var oneMinus = 1.0 - xi;
        var xiOneMinus = xi * oneMinus;
        var xi2 = xi * xi;
        var twoS = 2.0 * s;
        var den = s + (dk1 + dk - twoS) * xiOneMinus;
        var y = yk + h * (s * xi2 + dk * xiOneMinus) / den;
        var slope = s * s * (dk1 * xi2 + twoS * xiOneMinus + dk * (oneMinus * oneMinus)) / (den * den);
        var z = where(inside, y.squeeze(2), x);
        var logDet = slope.log().squeeze(2).masked_fill(inside.logical_not(), 0.0).sum(1);
        return (z.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }

    public override Tensor Inverse(Tensor z, Tensor raw)
    {
        using var scope = NewDisposeScope();
        var (kx, ky, kd, kw, kh) = Knots(raw, z.shape[1]);
        var zc = z.clamp(-bound, bound);
        var inside = z.eq(zc);
        var v = zc.unsqueeze(2);
        var (lo, hi) = Locate(v, ky);
        var (xk, w) = (kx.gather(2, lo), kw.gather(2, lo));
        var (yk, h) = (ky.gather(2, lo), kh.gather(2, lo));
        var (dk, dk1) = (kd.gather(2, lo), kd.gather(2, hi));
        // Solve a·ξ² + b·ξ + c = 0 (Durkan et al. 2019, eqs. 6–8) with the root 2c/(−b − √(b² − 4ac)),
        // which avoids the cancellation of the textbook formula.
        var s = h / w;
        var dy = v - yk;
        var curvature = dk1 + dk - 2.0 * s;
        var a = h * (s - dk) + dy * curvature;
        var b = h * dk - dy * curvature;
        var c = -s * dy;
        var discriminant = (b * b - 4.0 * (a * c)).clamp_min(0.0);
        var xi = 2.0 * c / (-b - discriminant.sqrt());
        var x = xk + xi * w;
        return where(inside, x.squeeze(2), z).MoveToOuterDisposeScope();
    }

    /// <summary>The bin of each value v [N, d, 1]: k = #{interior knots ≤ v}, and k + 1.</summary>
    private (Tensor Lo, Tensor Hi) Locate(Tensor v, Tensor knots)
    {
        using var interior = knots.narrow(2, 1, bins - 1);
        using var below = v.ge(interior);
        var lo = below.sum(2, keepdim: true, type: ScalarType.Int64);
        return (lo, lo + 1);
    }

    public override (string Z, string LogDet) EmitForward(GraphBuilder g, string x, string raw, long dims, string prefix)
    {
        var e = new Emitter(g, prefix);
        var (kx, ky, kd, kw, kh) = EmitKnots(e, raw, dims);
        string xc = g.Node("Clip", [x, e.Scalar(-bound), e.Scalar(bound)]);
        string inside = g.Node("Equal", [x, xc]);
        string v = g.Node("Unsqueeze", [xc, e.Axis2]);
        var (lo, hi) = EmitLocate(e, v, kx);
        string xk = e.Gather(kx, lo), w = e.Gather(kw, lo);
        string yk = e.Gather(ky, lo), h = e.Gather(kh, lo);
        string dk = e.Gather(kd, lo), dk1 = e.Gather(kd, hi);
        string s = g.Node("Div", [h, w]);
        string xi = g.Node("Div", [g.Node("Sub", [v, xk]), w]);
        string oneMinus = g.Node("Sub", [e.Scalar(1), xi]);
        string xiOneMinus = g.Node("Mul", [xi, oneMinus]);
        string xi2 = g.Node("Mul", [xi, xi]);
        string twoS = g.Node("Mul", [e.Scalar(2), s]);
        string curvature = g.Node("Sub", [g.Node("Add", [dk1, dk]), twoS]);
        string den = g.Node("Add", [s, g.Node("Mul", [curvature, xiOneMinus])]);
        string num = g.Node("Add", [g.Node("Mul", [s, xi2]), g.Node("Mul", [dk, xiOneMinus])]);
        string y = g.Node("Add", [yk, g.Node("Div", [g.Node("Mul", [h, num]), den])]);
        string slopeNum = g.Node("Add", [
            g.Node("Add", [g.Node("Mul", [dk1, xi2]), g.Node("Mul", [twoS, xiOneMinus])]),
            g.Node("Mul", [dk, g.Node("Mul", [oneMinus, oneMinus])])]);
        string slope = g.Node("Div", [g.Node("Mul", [g.Node("Mul", [s, s]), slopeNum]), g.Node("Mul", [den, den])]);
        string z = g.Node("Where", [inside, g.Node("Squeeze", [y, e.Axis2]), x]);
        string logSlope = g.Node("Where", [inside, g.Node("Squeeze", [g.Node("Log", [slope]), e.Axis2]), e.Scalar(0)]);
        string logDet = g.Node("ReduceSum", [logSlope, e.Axis1], attributes: ("keepdims", 0L));
        return (z, logDet);
    }

    public override string EmitInverse(GraphBuilder g, string z, string raw, long dims, string prefix)
    {
        var e = new Emitter(g, prefix);
        var (kx, ky, kd, kw, kh) = EmitKnots(e, raw, dims);
        string zc = g.Node("Clip", [z, e.Scalar(-bound), e.Scalar(bound)]);
        string inside = g.Node("Equal", [z, zc]);
        string v = g.Node("Unsqueeze", [zc, e.Axis2]);
        var (lo, hi) = EmitLocate(e, v, ky);
        string xk = e.Gather(kx, lo), w = e.Gather(kw, lo);
        string yk = e.Gather(ky, lo), h = e.Gather(kh, lo);
        string dk = e.Gather(kd, lo), dk1 = e.Gather(kd, hi);
        string s = g.Node("Div", [h, w]);
        string dy = g.Node("Sub", [v, yk]);
        string curvature = g.Node("Sub", [g.Node("Add", [dk1, dk]), g.Node("Mul", [e.Scalar(2), s])]);
        string dyCurvature = g.Node("Mul", [dy, curvature]);
        string a = g.Node("Add", [g.Node("Mul", [h, g.Node("Sub", [s, dk])]), dyCurvature]);
        string b = g.Node("Sub", [g.Node("Mul", [h, dk]), dyCurvature]);
        string c = g.Node("Neg", [g.Node("Mul", [s, dy])]);
        string fourAc = g.Node("Mul", [e.Scalar(4), g.Node("Mul", [a, c])]);
        string discriminant = g.Node("Relu", [g.Node("Sub", [g.Node("Mul", [b, b]), fourAc])]);
        string root = g.Node("Sub", [g.Node("Neg", [b]), g.Node("Sqrt", [discriminant])]);
        string xi = g.Node("Div", [g.Node("Mul", [e.Scalar(2), c]), root]);
        string x = g.Node("Add", [xk, g.Node("Mul", [xi, w])]);
        return g.Node("Where", [inside, g.Node("Squeeze", [x, e.Axis2]), z]);
    }

    private (string X, string Y, string Derivatives, string Widths, string Heights) EmitKnots(Emitter e, string raw, long dims)
    {
        var g = e.Graph;
        string shape = g.InitializerInt64(e.Prefix + "_shape", [0, dims, ParamsPerDim], 3);
        string[] parts = g.Node("Split", [g.Node("Reshape", [raw, shape]), g.InitializerInt64(e.Prefix + "_split", [bins, bins, bins - 1], 3)],
            [g.Fresh(e.Prefix + "_widths"), g.Fresh(e.Prefix + "_heights"), g.Fresh(e.Prefix + "_slopes")], ("axis", 2L));
        string span = e.Scalar(Span), min = e.Scalar(minBin);
        string Sizes(string raw) => g.Node("Add", [g.Node("Mul", [g.Node("Softmax", [raw], attributes: ("axis", 2L)), span]), min]);
        string cumulativeMatrix = g.Initializer(e.Prefix + "_cumulative", cumulative, bins, bins + 1);
        string offsets = g.Initializer(e.Prefix + "_knot_offsets", knotOffsets, bins + 1);
        string widths = Sizes(parts[0]), heights = Sizes(parts[1]);
        string x = g.Node("Add", [g.Node("MatMul", [widths, cumulativeMatrix]), offsets]);
        string y = g.Node("Add", [g.Node("MatMul", [heights, cumulativeMatrix]), offsets]);
        string slopes = FlowGraph.EmitSoftplus(g, g.Node("Add", [parts[2], e.Scalar(AffineTransform.SoftplusOneShift)]));
        string derivatives = g.Node("Add", [
            g.Node("MatMul", [slopes, g.Initializer(e.Prefix + "_embedding", embedding, bins - 1, bins + 1)]),
            g.Initializer(e.Prefix + "_boundary_slopes", boundarySlopes, bins + 1)]);
        return (x, y, derivatives, widths, heights);
    }

    private (string Lo, string Hi) EmitLocate(Emitter e, string v, string knots)
    {
        var g = e.Graph;
        string interior = g.Node("Slice", [knots, g.InitializerInt64(e.Prefix + "_start", [1], 1), g.InitializerInt64(e.Prefix + "_end", [bins], 1), e.Axis2]);
        string below = g.Node("Cast", [g.Node("GreaterOrEqual", [v, interior])], attributes: ("to", FlowGraph.Float));
        string count = g.Node("ReduceSum", [below, e.Axis2], attributes: ("keepdims", 1L));
        string lo = g.Node("Cast", [count], attributes: ("to", FlowGraph.Int64));
        return (lo, g.Node("Add", [lo, g.InitializerInt64(e.Prefix + "_one", [1], 1)]));
    }

    /// <summary>Graph-writing context of one spline: shared axis constants and named scalars.</summary>
    private sealed class Emitter(GraphBuilder graph, string prefix)
    {
        private string? axis1, axis2;

        public GraphBuilder Graph => graph;

        public string Prefix => prefix;

        public string Axis1 => axis1 ??= graph.InitializerInt64(prefix + "_axis1", [1], 1);

        public string Axis2 => axis2 ??= graph.InitializerInt64(prefix + "_axis2", [2], 1);

        public string Scalar(double value) => graph.Scalar(prefix + "_c", (float)value);

        public string Gather(string data, string index) => graph.Node("GatherElements", [data, index], attributes: ("axis", 2L));
    }
}
