using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// BayesFlow's dual coupling (docs/algorithms.md#dual-coupling; Dinh et al. 2017): with θ1 the first ⌊D/2⌋ dimensions
/// and θ2 the rest, z2 = T(θ2; NN_a([θ1, c])), then z1 = T(θ1; NN_b([z2, c])), output [z1, z2]. Each
/// half is conditioned only on values the inverse already knows, so the inverse runs the two steps in
/// reverse order. With D = 1 the first half is empty and only z2 = T(θ2; NN_a(c)) remains.
/// </summary>
internal sealed class DualCoupling : FlowLayer
{
    private readonly CouplingSubnet subnetA;
    private readonly CouplingSubnet? subnetB;
    private readonly CouplingTransform transform;
    private readonly long firstDims;
    private readonly long secondDims;
    private readonly long conditionDims;

    public DualCoupling(string name, int dim, int conditionDim, CouplingFlowOptions options) : base(name)
    {
        firstDims = dim / 2;
        secondDims = dim - firstDims;
        conditionDims = conditionDim;
        transform = CouplingTransform.Create(options);
        subnetA = new CouplingSubnet("subnet_a", firstDims + conditionDim, secondDims * transform.ParamsPerDim, options);
        if (firstDims > 0) subnetB = new CouplingSubnet("subnet_b", secondDims + conditionDim, firstDims * transform.ParamsPerDim, options);
        RegisterComponents();
    }

    /// <summary>The transform both halves apply.</summary>
    public CouplingTransform Transform => transform;

    /// <summary>NN_a, the conditioner of the second half on [θ1, c].</summary>
    public CouplingSubnet SubnetA => subnetA;

    /// <summary>NN_b, the conditioner of the first half on [z2, c]; null when D = 1.</summary>
    public CouplingSubnet? SubnetB => subnetB;

    /// <summary>⌊D/2⌋, the width of the first half.</summary>
    public long FirstDims => firstDims;

    public override (Tensor Z, Tensor? LogDet) Forward(Tensor x, Tensor conditions)
    {
        using var scope = NewDisposeScope();
        var (x1, x2) = Split(x);
        var rawA = subnetA.forward(Join(x1, conditions));
        var (z2, logDet) = transform.Forward(x2, rawA);
        if (subnetB is null) return (z2.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
        var rawB = subnetB.forward(Join(z2, conditions));
        var (z1, logDetB) = transform.Forward(x1, rawB);
        return (cat([z1, z2], 1).MoveToOuterDisposeScope(), (logDet + logDetB).MoveToOuterDisposeScope());
    }

    public override Tensor Inverse(Tensor z, Tensor conditions)
    {
        using var scope = NewDisposeScope();
        var (z1, z2) = Split(z);
        var x1 = z1;
        if (subnetB is not null) x1 = transform.Inverse(z1, subnetB.forward(Join(z2, conditions)));
        var x2 = transform.Inverse(z2, subnetA.forward(Join(x1, conditions)));
        return (subnetB is null ? x2 : cat([x1, x2], 1)).MoveToOuterDisposeScope();
    }

    public override (string Z, string? LogDet) EmitForward(GraphBuilder g, string x, string conditions, string prefix)
    {
        var (x1, x2) = EmitSplit(g, x, prefix);
        string rawA = subnetA.Emit(g, FlowGraph.ConcatFeatures(g, (x1, firstDims), (conditions, conditionDims)), prefix + "_a");
        var (z2, logDet) = transform.EmitForward(g, x2, rawA, secondDims, prefix + "_ta");
        if (subnetB is null) return (z2, logDet);
        string rawB = subnetB.Emit(g, FlowGraph.ConcatFeatures(g, (z2, secondDims), (conditions, conditionDims)), prefix + "_b");
        var (z1, logDetB) = transform.EmitForward(g, x1, rawB, firstDims, prefix + "_tb");
        return (g.Node("Concat", [z1, z2], attributes: ("axis", 1L)), g.Node("Add", [logDet, logDetB]));
    }

    public override string EmitInverse(GraphBuilder g, string z, string conditions, string prefix, ICollection<InverseStep> plan)
    {
        var (z1, z2) = EmitSplit(g, z, prefix + "_inv");
        string x1 = z1;
        if (subnetB is not null)
        {
            string inputB = FlowGraph.ConcatFeatures(g, (z2, secondDims), (conditions, conditionDims));
            string rawB = subnetB.Emit(g, inputB, prefix + "_inv_b");
            plan.Add(Step(0, firstDims, firstDims, secondDims, inputB, rawB));
            x1 = transform.EmitInverse(g, z1, rawB, firstDims, prefix + "_inv_tb");
        }
        string inputA = FlowGraph.ConcatFeatures(g, (x1, firstDims), (conditions, conditionDims));
        string rawA = subnetA.Emit(g, inputA, prefix + "_inv_a");
        plan.Add(Step(firstDims, secondDims, 0, firstDims, inputA, rawA));
        string x2 = transform.EmitInverse(g, z2, rawA, secondDims, prefix + "_inv_ta");
        return subnetB is null ? x2 : g.Node("Concat", [x1, x2], attributes: ("axis", 1L));
    }

    private static InverseStep Step(long offset, long width, long keptOffset, long keptWidth, string input, string output) => new()
    {
        Coupling = new CouplingInverse
        {
            TransformedOffset = (int)offset, TransformedWidth = (int)width, KeptOffset = (int)keptOffset, KeptWidth = (int)keptWidth,
            SubnetInput = input, SubnetOutput = output,
        },
    };

    private (Tensor First, Tensor Second) Split(Tensor x)
        => (x.narrow(1, 0, firstDims), x.narrow(1, firstDims, secondDims));

    private Tensor Join(Tensor half, Tensor conditions)
        => conditionDims == 0 ? half : half.shape[1] == 0 ? conditions : cat([half, conditions], 1);

    private (string First, string Second) EmitSplit(GraphBuilder g, string x, string prefix)
    {
        if (firstDims == 0) return (x, x);
        string[] parts = g.Node("Split", [x, g.InitializerInt64(prefix + "_split", [firstDims, secondDims], 2)],
            [g.Fresh(prefix + "_x1"), g.Fresh(prefix + "_x2")], ("axis", 1L));
        return (parts[0], parts[1]);
    }
}
