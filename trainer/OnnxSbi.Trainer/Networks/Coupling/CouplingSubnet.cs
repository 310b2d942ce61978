using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// The conditioner of a coupling: a plain MLP (no residual connections, as BayesFlow's coupling
/// subnet) from [kept half, conditions] to the transform's raw parameters. Each hidden layer is
/// Dense (he_normal) → dropout → activation, the order of the project's residual MLP. The output layer
/// starts at zero, so every coupling starts as the identity (docs/algorithms.md#dual-coupling).
/// </summary>
internal sealed class CouplingSubnet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Dense> hidden = new();
    private readonly Dense output;
    private readonly Dropout? dropout;
    private readonly Activation activation;

    public CouplingSubnet(string name, long inFeatures, long outFeatures, CouplingFlowOptions options) : base(name)
    {
        long fanIn = inFeatures;
        for (int i = 0; i < options.Widths.Count; i++)
        {
            hidden.Add(new Dense($"hidden{i}", fanIn, options.Widths[i]));
            fanIn = options.Widths[i];
        }
        output = new Dense("output", fanIn, outFeatures, DenseInit.Zeros);
        if (options.SubnetDropout > 0) dropout = nn.Dropout(options.SubnetDropout);
        activation = options.SubnetActivation;
        RegisterComponents();
    }

    /// <summary>The output layer, whose weights start at zero.</summary>
    public Dense Output => output;

    public override Tensor forward(Tensor input)
    {
        Tensor h = input;
        foreach (var layer in hidden)
        {
            using var dense = layer.forward(h);
            using var dropped = dropout is null ? dense.alias() : dropout.forward(dense);
            var next = Activations.Apply(dropped, activation);
            if (!ReferenceEquals(h, input)) h.Dispose();
            h = next;
        }
        var result = output.forward(h);
        if (!ReferenceEquals(h, input)) h.Dispose();
        return result;
    }

    /// <summary>Writes the subnet (inference mode: dropout is the identity) and returns the output's name.</summary>
    public string Emit(GraphBuilder g, string input, string prefix)
    {
        string h = input;
        for (int i = 0; i < hidden.Count; i++)
            h = Activations.Emit(g, hidden[i].Emit(g, h, $"{prefix}_hidden{i}"), activation);
        return output.Emit(g, h, prefix + "_output");
    }
}
