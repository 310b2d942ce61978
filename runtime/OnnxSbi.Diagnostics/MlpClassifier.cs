using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Diagnostics;

/// <summary>
/// A binary MLP classifier with two ReLU hidden layers and a logistic output, trained with Adam on the
/// log loss plus an L2 penalty: the model and training rule of scikit-learn's MLPClassifier, which
/// sbibm's C2ST uses (docs/algorithms.md#c2st).
/// </summary>
/// <remarks>
/// Activations are stored feature-major (one row per unit, one column per sample, rows padded to a
/// multiple of 8), so every layer is a small matrix product whose inner loop runs along the batch in
/// Vector256 lanes. Padded columns carry zero input and zero output error, so they never reach a
/// gradient. All buffers are allocated once; a training step allocates nothing.
/// </remarks>
internal sealed class MlpClassifier
{
    private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

    private readonly int _in, _hidden, _capacity;
    private readonly int _w1, _b1, _w2, _b2, _w3, _b3, _parameterCount;
    private readonly float[] _p, _g, _m, _v, _adamScratch;
    private readonly float[] _x, _a1, _a2, _z3, _d3, _d2, _d1, _w2t, _y, _tmp;
    private double _beta1Power = 1, _beta2Power = 1;

    /// <summary>
    /// Creates the network with Glorot-uniform weights and biases, U(±√(6/(fan_in + fan_out))), as
    /// scikit-learn initializes every layer of a ReLU network.
    /// </summary>
    public MlpClassifier(int inputs, int hidden, int batchCapacity, ref Xoshiro256 rng)
    {
        _in = inputs;
        _hidden = hidden;
        _capacity = Pad(batchCapacity);
        _w1 = 0;
        _b1 = _w1 + hidden * inputs;
        _w2 = _b1 + hidden;
        _b2 = _w2 + hidden * hidden;
        _w3 = _b2 + hidden;
        _b3 = _w3 + hidden;
        _parameterCount = _b3 + 1;
        _p = new float[_parameterCount];
        _g = new float[_parameterCount];
        _m = new float[_parameterCount];
        _v = new float[_parameterCount];
        _adamScratch = new float[_parameterCount];
        InitUniform(_p.AsSpan(_w1, _w2 - _w1), inputs, hidden, ref rng);
        InitUniform(_p.AsSpan(_w2, _w3 - _w2), hidden, hidden, ref rng);
        InitUniform(_p.AsSpan(_w3, _parameterCount - _w3), hidden, 1, ref rng);
        _x = new float[inputs * _capacity];
        _a1 = new float[hidden * _capacity];
        _a2 = new float[hidden * _capacity];
        _d2 = new float[hidden * _capacity];
        _d1 = new float[hidden * _capacity];
        _z3 = new float[_capacity];
        _d3 = new float[_capacity];
        _y = new float[_capacity];
        _tmp = new float[_capacity];
        _w2t = new float[hidden * hidden];
    }

    /// <summary>Number of trainable parameters.</summary>
    public int ParameterCount => _parameterCount;

    private static int Pad(int n) => (n + 7) & ~7;

    private static void InitUniform(Span<float> weightsAndBias, int fanIn, int fanOut, ref Xoshiro256 rng)
    {
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        foreach (ref float w in weightsAndBias) w = (float)((2 * rng.NextDouble() - 1) * bound);
    }

    /// <summary>
    /// One Adam step on the samples <paramref name="batch"/> of <paramref name="data"/> (row-major,
    /// <c>inputs</c> values per row). Returns the batch loss: mean log loss + α/(2B)·Σ‖W‖², scikit-learn's
    /// objective for a batch of size B.
    /// </summary>
    public double TrainBatch(ReadOnlySpan<float> data, ReadOnlySpan<float> labels, ReadOnlySpan<int> batch, float learningRate, float alpha)
    {
        double loss = LossAndGradients(data, labels, batch, alpha);
        AdamStep(learningRate);
        return loss;
    }

    /// <summary>The parameters, flat: W1 [hidden × inputs], b1, W2 [hidden × hidden], b2, W3 [hidden], b3.</summary>
    internal Span<float> Parameters => _p;

    /// <summary>The gradient of the last <see cref="LossAndGradients"/> call, laid out like <see cref="Parameters"/>.</summary>
    internal ReadOnlySpan<float> Gradients => _g;

    /// <summary>The batch loss (see <see cref="TrainBatch"/>) and its gradient, left in <see cref="Gradients"/>.</summary>
    internal double LossAndGradients(ReadOnlySpan<float> data, ReadOnlySpan<float> labels, ReadOnlySpan<int> batch, float alpha)
    {
        int b = batch.Length, lp = Pad(b);
        Forward(data, labels, batch);
        Span<float> z = _z3.AsSpan(0, b), y = _y.AsSpan(0, b), tmp = _tmp.AsSpan(0, b);

        // Log loss in the overflow-free form log(1 + e^z) − y·z = max(z, 0) − y·z + log(1 + e^{−|z|}).
        TensorPrimitives.Abs(z, tmp);
        TensorPrimitives.Negate(tmp, tmp);
        TensorPrimitives.Exp(tmp, tmp);
        TensorPrimitives.Add(tmp, 1f, tmp);
        TensorPrimitives.Log(tmp, tmp);
        double loss = TensorPrimitives.Sum<float>(tmp) - TensorPrimitives.Dot(y, z);
        foreach (float v in z) loss += Math.Max(v, 0f);
        loss /= b;
        double penalty = TensorPrimitives.SumOfSquares<float>(_p.AsSpan(_w1, _b1 - _w1))
                       + TensorPrimitives.SumOfSquares<float>(_p.AsSpan(_w2, _b2 - _w2))
                       + TensorPrimitives.SumOfSquares<float>(_p.AsSpan(_w3, _b3 - _w3));
        loss += 0.5 * alpha * penalty / b;

        // Output error of the logistic unit under log loss: ∂L/∂z = (σ(z) − y)/B; zero on padding.
        Span<float> d3 = _d3.AsSpan(0, lp);
        TensorPrimitives.Sigmoid(z, d3[..b]);
        TensorPrimitives.Subtract(d3[..b], y, d3[..b]);
        TensorPrimitives.Multiply(d3[..b], 1f / b, d3[..b]);
        d3[b..].Clear();

        int h = _hidden;
        Span<float> g = _g;
        ReadOnlySpan<float> p = _p;
        // Output layer: gW3 = δ3·A2ᵀ, gb3 = Σ δ3.
        GemmNT(d3, 1, _a2, h, lp, g.Slice(_w3, h));
        g[_b3] = TensorPrimitives.Sum<float>(d3);
        // δ2 = (W3ᵀ δ3) ⊙ 1[A2 > 0]
        for (int j = 0; j < h; j++)
            ScaleMasked(d3, p[_w3 + j], _a2.AsSpan(j * lp, lp), _d2.AsSpan(j * lp, lp));
        GemmNT(_d2, h, _a1, h, lp, g.Slice(_w2, h * h));
        for (int j = 0; j < h; j++) g[_b2 + j] = TensorPrimitives.Sum<float>(_d2.AsSpan(j * lp, lp));
        // δ1 = (W2ᵀ δ2) ⊙ 1[A1 > 0]
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) _w2t[j * h + i] = p[_w2 + i * h + j];
        GemmNN(_w2t, h, h, default, _d2, lp, _d1, relu: false, mask: _a1);
        GemmNT(_d1, h, _x, _in, lp, g.Slice(_w1, h * _in));
        for (int j = 0; j < h; j++) g[_b1 + j] = TensorPrimitives.Sum<float>(_d1.AsSpan(j * lp, lp));

        // L2 penalty gradient α·W/B on the weights, not the biases (scikit-learn's convention).
        float decay = alpha / b;
        AddScaled(g.Slice(_w1, _b1 - _w1), p.Slice(_w1, _b1 - _w1), decay);
        AddScaled(g.Slice(_w2, _b2 - _w2), p.Slice(_w2, _b2 - _w2), decay);
        AddScaled(g.Slice(_w3, _b3 - _w3), p.Slice(_w3, _b3 - _w3), decay);
        return loss;
    }

    /// <summary>Number of samples in <paramref name="batch"/> classified correctly (σ(z) &gt; 0.5 ⇔ class 1).</summary>
    public int CountCorrect(ReadOnlySpan<float> data, ReadOnlySpan<float> labels, ReadOnlySpan<int> batch)
    {
        Forward(data, labels, batch);
        int correct = 0;
        for (int n = 0; n < batch.Length; n++)
            if ((_z3[n] > 0f) == (_y[n] > 0.5f)) correct++;
        return correct;
    }

    private void Forward(ReadOnlySpan<float> data, ReadOnlySpan<float> labels, ReadOnlySpan<int> batch)
    {
        int b = batch.Length, lp = Pad(b);
        if (b == 0 || lp > _capacity)
            throw new ArgumentOutOfRangeException(nameof(batch), b, $"Expected 1..{_capacity} samples per batch.");
        for (int n = 0; n < b; n++)
        {
            int row = batch[n];
            for (int k = 0; k < _in; k++) _x[k * lp + n] = data[row * _in + k];
            _y[n] = labels[row];
        }
        for (int k = 0; k < _in; k++) _x.AsSpan(k * lp + b, lp - b).Clear();
        int h = _hidden;
        GemmNN(_p.AsSpan(_w1, h * _in), h, _in, _p.AsSpan(_b1, h), _x, lp, _a1, relu: true, mask: default);
        GemmNN(_p.AsSpan(_w2, h * h), h, h, _p.AsSpan(_b2, h), _a1, lp, _a2, relu: true, mask: default);
        GemmNN(_p.AsSpan(_w3, h), 1, h, _p.AsSpan(_b3, 1), _a2, lp, _z3, relu: false, mask: default);
    }

    private void AdamStep(float learningRate)
    {
        // Kingma & Ba (2015), Algorithm 1, with the bias corrections folded into the step size as
        // scikit-learn does: lr_t = lr·√(1 − β2^t)/(1 − β1^t); θ −= lr_t·m/(√v + ε).
        _beta1Power *= Beta1;
        _beta2Power *= Beta2;
        float step = (float)(learningRate * Math.Sqrt(1 - _beta2Power) / (1 - _beta1Power));
        Span<float> p = _p, g = _g, m = _m, v = _v, tmp = _adamScratch;
        TensorPrimitives.Multiply(m, Beta1, m);
        TensorPrimitives.MultiplyAdd(g, 1 - Beta1, m, m);
        TensorPrimitives.Multiply(v, Beta2, v);
        TensorPrimitives.Multiply(g, g, tmp);
        TensorPrimitives.MultiplyAdd(tmp, 1 - Beta2, v, v);
        TensorPrimitives.Sqrt(v, tmp);
        TensorPrimitives.Add(tmp, Epsilon, tmp);
        TensorPrimitives.Divide(m, tmp, tmp);
        TensorPrimitives.MultiplyAdd(tmp, -step, p, p);
    }

    private static void AddScaled(Span<float> g, ReadOnlySpan<float> w, float scale)
        => TensorPrimitives.MultiplyAdd(w, scale, g, g);

    /// <summary>dst = s·src where mask &gt; 0, else 0.</summary>
    private static void ScaleMasked(ReadOnlySpan<float> src, float s, ReadOnlySpan<float> mask, Span<float> dst)
    {
        var sv = Vector256.Create(s);
        ref float rs = ref MemoryMarshal.GetReference(src);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        for (int n = 0; n < dst.Length; n += 8)
        {
            var keep = Vector256.GreaterThan(Vector256.LoadUnsafe(ref rm, (nuint)n), Vector256<float>.Zero);
            (Vector256.LoadUnsafe(ref rs, (nuint)n) * sv & keep).StoreUnsafe(ref rd, (nuint)n);
        }
    }

    /// <summary>
    /// C[M × L] = A[M × K]·B[K × L] (+ bias per row), then ReLU or a mask 1[mask &gt; 0]; L a multiple of 8.
    /// Four vectors of one output row stay in registers across the K loop.
    /// </summary>
    internal static void GemmNN(ReadOnlySpan<float> a, int rows, int inner, ReadOnlySpan<float> bias,
        ReadOnlySpan<float> b, int width, Span<float> c, bool relu, ReadOnlySpan<float> mask)
    {
        if (a.Length < rows * inner || b.Length < inner * width || c.Length < rows * width || width % 8 != 0
            || (!bias.IsEmpty && bias.Length < rows) || (!mask.IsEmpty && mask.Length < rows * width))
            throw new ArgumentException("GemmNN operands do not match the given sizes.");
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        bool masked = !mask.IsEmpty;
        for (int i = 0; i < rows; i++)
        {
            var init = Vector256.Create(bias.IsEmpty ? 0f : bias[i]);
            ref float ai = ref Unsafe.Add(ref ra, i * inner);
            nuint rowStart = (nuint)(i * width);
            int col = 0;
            for (; col + 32 <= width; col += 32)
            {
                Vector256<float> c0 = init, c1 = init, c2 = init, c3 = init;
                ref float bk = ref Unsafe.Add(ref rb, col);
                for (int k = 0; k < inner; k++)
                {
                    var s = Vector256.Create(Unsafe.Add(ref ai, k));
                    c0 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bk), c0);
                    c1 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bk, 8), c1);
                    c2 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bk, 16), c2);
                    c3 = Vector256.FusedMultiplyAdd(s, Vector256.LoadUnsafe(ref bk, 24), c3);
                    bk = ref Unsafe.Add(ref bk, width);
                }
                nuint o = rowStart + (nuint)col;
                Finish(c0, relu, masked, ref rm, o).StoreUnsafe(ref rc, o);
                Finish(c1, relu, masked, ref rm, o + 8).StoreUnsafe(ref rc, o + 8);
                Finish(c2, relu, masked, ref rm, o + 16).StoreUnsafe(ref rc, o + 16);
                Finish(c3, relu, masked, ref rm, o + 24).StoreUnsafe(ref rc, o + 24);
            }
            for (; col < width; col += 8)
            {
                var c0 = init;
                for (int k = 0; k < inner; k++)
                    c0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref ai, k)), Vector256.LoadUnsafe(ref rb, (nuint)(k * width + col)), c0);
                nuint o = rowStart + (nuint)col;
                Finish(c0, relu, masked, ref rm, o).StoreUnsafe(ref rc, o);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<float> v, bool relu, bool masked, ref float mask, nuint at)
    {
        if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
        if (masked) v &= Vector256.GreaterThan(Vector256.LoadUnsafe(ref mask, at), Vector256<float>.Zero);
        return v;
    }

    /// <summary>G[M × K] = D[M × L]·E[K × L]ᵀ (dot products of rows), L a multiple of 8.</summary>
    internal static void GemmNT(ReadOnlySpan<float> d, int rows, ReadOnlySpan<float> e, int cols, int width, Span<float> g)
    {
        if (d.Length < rows * width || e.Length < cols * width || g.Length < rows * cols || width % 8 != 0)
            throw new ArgumentException("GemmNT operands do not match the given sizes.");
        ref float rd = ref MemoryMarshal.GetReference(d);
        ref float re = ref MemoryMarshal.GetReference(e);
        for (int i = 0; i < rows; i++)
        {
            nuint di = (nuint)(i * width);
            int j = 0;
            for (; j + 4 <= cols; j += 4)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                nuint e0 = (nuint)(j * width), e1 = e0 + (nuint)width, e2 = e1 + (nuint)width, e3 = e2 + (nuint)width;
                for (nuint n = 0; n < (nuint)width; n += 8)
                {
                    var dv = Vector256.LoadUnsafe(ref rd, di + n);
                    s0 = Vector256.FusedMultiplyAdd(dv, Vector256.LoadUnsafe(ref re, e0 + n), s0);
                    s1 = Vector256.FusedMultiplyAdd(dv, Vector256.LoadUnsafe(ref re, e1 + n), s1);
                    s2 = Vector256.FusedMultiplyAdd(dv, Vector256.LoadUnsafe(ref re, e2 + n), s2);
                    s3 = Vector256.FusedMultiplyAdd(dv, Vector256.LoadUnsafe(ref re, e3 + n), s3);
                }
                g[i * cols + j] = Vector256.Sum(s0);
                g[i * cols + j + 1] = Vector256.Sum(s1);
                g[i * cols + j + 2] = Vector256.Sum(s2);
                g[i * cols + j + 3] = Vector256.Sum(s3);
            }
            for (; j < cols; j++)
            {
                Vector256<float> s0 = default;
                nuint e0 = (nuint)(j * width);
                for (nuint n = 0; n < (nuint)width; n += 8)
                    s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rd, di + n), Vector256.LoadUnsafe(ref re, e0 + n), s0);
                g[i * cols + j] = Vector256.Sum(s0);
            }
        }
    }
}
