using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>Options of the residual MLP subnet (BayesFlow's "mlp").</summary>
/// <param name="Widths">Hidden widths, one block each; BayesFlow's default is (256,)×5.</param>
/// <param name="Activation">Block activation; mish by default.</param>
/// <param name="Dropout">Dropout rate inside each block; BayesFlow's default 0.05.</param>
public sealed record MlpOptions(IReadOnlyList<int> Widths, Activation Activation = Activation.Mish, double Dropout = 0.05)
{
    /// <summary>BayesFlow's default subnet: widths (256,)×5, mish, dropout 0.05.</summary>
    public static MlpOptions Default { get; } = new(Enumerable.Repeat(256, 5).ToArray());

    /// <summary>Throws when the options cannot build a network.</summary>
    public void Validate()
    {
        if (Widths is null || Widths.Count == 0) throw new ArgumentException("Subnet widths must not be empty, e.g. [256, 256].");
        if (Widths.Any(w => w <= 0)) throw new ArgumentException($"Subnet widths must be positive; got [{string.Join(", ", Widths)}].");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"Dropout must be in [0, 1); got {Dropout}.");
    }
}

/// <summary>
/// BayesFlow's residual MLP: each block computes h' = Proj(h) + act(dropout(Dense(h))), the residual
/// projection being a second dense layer (docs/algorithms.md#flow-matching). Dense and Proj read the same input, so
/// they are stored as one layer of twice the width: one matrix product per block in training and in
/// the exported graph, with the same function as two separate layers.
/// </summary>
internal sealed class ResidualMlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Dense> blocks = new();
    private readonly Dropout? dropout;
    private readonly int[] widths;

    public ResidualMlp(string name, long inFeatures, MlpOptions options) : base(name)
    {
        options.Validate();
        Options = options;
        widths = options.Widths.ToArray();
        long fanIn = inFeatures;
        for (int i = 0; i < widths.Length; i++)
        {
            var block = new Dense($"block{i}", fanIn, 2L * widths[i]);
            // The projection half is a linear residual path: LeCun variance (σ² = 1/fan_in) keeps its
            // output variance equal to its input's, where He's σ² = 2/fan_in (right for the activated
            // half) would double it at every block and blow the initial outputs up geometrically.
            using (no_grad()) block.Weight.narrow(0, widths[i], widths[i]).mul_(Math.Sqrt(0.5));
            blocks.Add(block);
            fanIn = widths[i];
        }
        if (options.Dropout > 0) dropout = nn.Dropout(options.Dropout);
        InFeatures = inFeatures;
        RegisterComponents();
    }

    public MlpOptions Options { get; }

    public long InFeatures { get; }

    public long OutFeatures => widths[^1];

    public override Tensor forward(Tensor h)
    {
        for (int i = 0; i < widths.Length; i++)
        {
            using var both = blocks[i].forward(h);
            var parts = both.split([widths[i], widths[i]], dim: 1);
            using var dense = parts[0];
            using var proj = parts[1];
            using var dropped = dropout is null ? dense.alias() : dropout.forward(dense);
            using var activated = Activations.Apply(dropped, Options.Activation);
            var next = proj + activated;
            if (i > 0) h.Dispose();
            h = next;
        }
        return h;
    }

    /// <summary>
    /// Writes the blocks (inference mode: dropout is the identity) and returns the output's name. With the mish
    /// activation each block is declared in <paramref name="declared"/> by its node names in the order the
    /// manifest's <see cref="ResidualBlock"/> documents, so that a runtime rewrites exactly these blocks and
    /// refuses a bundle whose graph no longer has the declared shape.
    /// </summary>
    public string Emit(GraphBuilder g, string x, string prefix, ICollection<ResidualBlock>? declared = null)
    {
        string h = x;
        for (int i = 0; i < widths.Length; i++)
        {
            string both = blocks[i].Emit(g, h, $"{prefix}_block{i}");
            string[] parts = g.Node("Split", [both, g.InitializerInt64($"{prefix}_split{i}", [widths[i], widths[i]], 2)],
                [g.Fresh($"{prefix}_dense{i}"), g.Fresh($"{prefix}_proj{i}")], ("axis", 1L));
            string activated = Activations.Emit(g, parts[0], Options.Activation);
            h = g.Node("Add", [parts[1], activated]);
            if (declared is not null && Options.Activation == Activation.Mish) declared.Add(DeclareMishBlock(g, both, parts[0], h));
        }
        return h;
    }

    /// <summary>
    /// The ten nodes of one block, from the values Emit wrote: the Gemm producing <paramref name="both"/>, the Split,
    /// the mish chain of Activations.Emit on <paramref name="dense"/> (Neg, Sigmoid, Mul, Sub, Add, Div, Mul) and the
    /// residual Add producing <paramref name="output"/>.
    /// </summary>
    private static ResidualBlock DeclareMishBlock(GraphBuilder g, string both, string dense, string output)
    {
        var residual = g.ProducerOf(output);
        var mul = g.ProducerOf(residual.Input[1]);
        var div = g.ProducerOf(mul.Input[1]);
        var sub = g.ProducerOf(div.Input[0]);
        var add = g.ProducerOf(div.Input[1]);
        var square = g.ProducerOf(sub.Input[1]);
        var sigmoid = g.ProducerOf(square.Input[0]);
        var neg = g.ProducerOf(sigmoid.Input[0]);
        var block = new ResidualBlock();
        block.Nodes.Add([g.ProducerOf(both).Name, g.ProducerOf(dense).Name, neg.Name, sigmoid.Name, square.Name, sub.Name, add.Name, div.Name, mul.Name, residual.Name]);
        return block;
    }
}
