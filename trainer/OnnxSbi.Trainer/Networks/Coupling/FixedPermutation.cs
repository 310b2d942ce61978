using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// A fixed reordering of the dimensions, z[:, i] = x[:, π(i)], so every dimension is transformed by
/// some coupling (Dinh et al. 2017). Volume-preserving. The order is a function of the options and
/// the seed, so it is rebuilt identically when a checkpoint is loaded.
/// </summary>
internal sealed class FixedPermutation : FlowLayer
{
    private readonly long[] forward;
    private readonly long[] inverse;

    private FixedPermutation(string name, long[] order) : base(name)
    {
        forward = order;
        inverse = new long[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        RegisterComponents();
    }

    /// <summary>The order, z[:, i] = x[:, Order[i]].</summary>
    public IReadOnlyList<long> Order => forward;

    /// <summary>A uniformly random shuffle drawn from <paramref name="generator"/>.</summary>
    public static FixedPermutation Random(string name, int dim, Generator generator)
    {
        using var order = randperm(dim, generator: generator);
        return new FixedPermutation(name, order.data<long>().ToArray());
    }

    /// <summary>BayesFlow's "swap": a roll by ⌊D/2⌋, z[:, i] = x[:, (i − ⌊D/2⌋) mod D].</summary>
    public static FixedPermutation Swap(string name, int dim)
    {
        int shift = dim / 2;
        return new FixedPermutation(name, Enumerable.Range(0, dim).Select(i => (long)((i - shift + dim) % dim)).ToArray());
    }

    public override (Tensor Z, Tensor? LogDet) Forward(Tensor x, Tensor conditions)
    {
        using var idx = tensor(forward, device: x.device);
        return (x.index_select(1, idx), null);
    }

    public override Tensor Inverse(Tensor z, Tensor conditions)
    {
        using var idx = tensor(inverse, device: z.device);
        return z.index_select(1, idx);
    }

    public override (string Z, string? LogDet) EmitForward(GraphBuilder g, string x, string conditions, string prefix)
        => (Emit(g, x, forward, prefix), null);

    public override string EmitInverse(GraphBuilder g, string z, string conditions, string prefix, ICollection<InverseStep> plan)
    {
        plan.Add(new InverseStep { Permute = new PermuteColumns { Order = { inverse.Select(i => (int)i) } } });
        return Emit(g, z, inverse, prefix + "_inv");
    }

    private static string Emit(GraphBuilder g, string x, long[] order, string prefix)
        => g.Node("Gather", [x, g.InitializerInt64(prefix + "_order", order, order.Length)], attributes: ("axis", 1L));
}
