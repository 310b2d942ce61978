using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// A learnable linear mixing z = x·Wᵀ, BayesFlow's "orthogonal" permutation. W starts as a random
/// rotation and is stored in the LU form of Glow (Kingma &amp; Dhariwal 2018, §3.2),
/// W = P·L·(U + diag(σ ⊙ e^λ)), with P a fixed permutation, L unit lower triangular, U strictly upper
/// triangular and σ fixed signs: log|det W| = Σ λ costs no determinant, and W stays invertible.
/// The exported graphs hold the precomputed Wᵀ and W⁻ᵀ (in double precision) as plain MatMuls.
/// </summary>
internal sealed class OrthogonalPermutation : FlowLayer
{
    private readonly Parameter lower;
    private readonly Parameter upper;
    private readonly Parameter logDiagonal;
    private readonly Tensor pivots;
    private readonly Tensor signs;
    private readonly int dim;

    public OrthogonalPermutation(string name, int dim, Generator generator) : base(name)
    {
        this.dim = dim;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var gaussian = randn([dim, dim], dtype: ScalarType.Float64, generator: generator);
            var (q, _) = linalg.qr(gaussian);
            var (p, l, u) = linalg.lu(q);
            var diagonal = u!.diagonal();
            pivots = p.to(ScalarType.Float32).DetachFromDisposeScope();
            signs = diagonal.sign().to(ScalarType.Float32).DetachFromDisposeScope();
            lower = nn.Parameter(l!.tril(-1).to(ScalarType.Float32).DetachFromDisposeScope());
            upper = nn.Parameter(u.triu(1).to(ScalarType.Float32).DetachFromDisposeScope());
            logDiagonal = nn.Parameter(diagonal.abs().log().to(ScalarType.Float32).DetachFromDisposeScope());
        }
        RegisterComponents();
    }

    /// <summary>W = P·L·(U + diag(σ ⊙ e^λ)) in the parameters' dtype.</summary>
    public Tensor Weight()
    {
        using var scope = NewDisposeScope();
        var eye = torch.eye(dim, dtype: lower.dtype, device: lower.device);
        var l = lower.tril(-1) + eye;
        var u = upper.triu(1) + (signs * logDiagonal.exp()).diag();
        return pivots.matmul(l).matmul(u).MoveToOuterDisposeScope();
    }

    public override (Tensor Z, Tensor? LogDet) Forward(Tensor x, Tensor conditions)
    {
        using var w = Weight();
        return (x.matmul(w.t()), logDiagonal.sum());
    }

    public override Tensor Inverse(Tensor z, Tensor conditions)
    {
        using var w = Weight();
        using var inverse = linalg.inv(w);
        return z.matmul(inverse.t());
    }

    public override (string Z, string? LogDet) EmitForward(GraphBuilder g, string x, string conditions, string prefix)
    {
        var (wT, _) = Matrices();
        string z = g.Node("MatMul", [x, g.Initializer(prefix + "_WT", wT, dim, dim)]);
        return (z, g.Scalar(prefix + "_log_det", (float)FlowGraph.Doubles(logDiagonal).Sum()));
    }

    public override string EmitInverse(GraphBuilder g, string z, string conditions, string prefix, ICollection<InverseStep> plan)
    {
        var (_, wInvT) = Matrices();
        plan.Add(new InverseStep { Linear = new LinearMix { Matrix = { wInvT } } });
        return g.Node("MatMul", [z, g.Initializer(prefix + "_WinvT", wInvT, dim, dim)]);
    }

    /// <summary>Wᵀ and W⁻ᵀ, built and inverted in double precision, then rounded to float32.</summary>
    private (float[] WT, float[] WInvT) Matrices()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pivots64 = pivots.to(ScalarType.Float64);
        var eye = torch.eye(dim, dtype: ScalarType.Float64);
        var l = lower.detach().to(ScalarType.Float64).tril(-1) + eye;
        var u = upper.detach().to(ScalarType.Float64).triu(1) + (signs.to(ScalarType.Float64) * logDiagonal.detach().to(ScalarType.Float64).exp()).diag();
        var w = pivots64.matmul(l).matmul(u).cpu();
        var wInv = linalg.inv(w);
        return (Export.TensorData.Floats(w.t()), Export.TensorData.Floats(wInv.t()));
    }
}
