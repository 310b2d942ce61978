using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>Hidden-layer activations of the subnets.</summary>
public enum Activation
{
    /// <summary>x·tanh(softplus(x)) (Misra 2019); BayesFlow's MLP default.</summary>
    Mish,
    /// <summary>x·sigmoid(x).</summary>
    Silu,
    /// <summary>max(x, 0).</summary>
    Relu,
}

/// <summary>Applies an activation in TorchSharp and writes the identical function into an ONNX graph.</summary>
internal static class Activations
{
    public static Activation Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "mish" => Activation.Mish,
        "silu" or "swish" => Activation.Silu,
        "relu" => Activation.Relu,
        _ => throw new ArgumentException($"Unknown activation '{name}'. Valid: mish, silu, relu."),
    };

    public static Tensor Apply(Tensor x, Activation activation) => activation switch
    {
        Activation.Mish => nn.functional.mish(x),
        Activation.Silu => nn.functional.silu(x),
        Activation.Relu => nn.functional.relu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>Writes the activation of value <paramref name="x"/> and returns the result's name.</summary>
    public static string Emit(GraphBuilder g, string x, Activation activation)
    {
        switch (activation)
        {
            case Activation.Mish:
            {
                // ORT has no Mish kernel and its Softplus is slow (docs/algorithms.md#mish). With q = sigmoid(−x),
                // e^{softplus(x)} = 1 + e^x = 1/q, so tanh(softplus(x)) = (1 − q²)/(1 + q²): exact algebra.
                string q = g.Node("Sigmoid", [g.Node("Neg", [x])]);
                string q2 = g.Node("Mul", [q, q]);
                string one = g.Scalar("one", 1f);
                string num = g.Node("Sub", [one, q2]);
                string den = g.Node("Add", [one, q2]);
                return g.Node("Mul", [x, g.Node("Div", [num, den])]);
            }
            case Activation.Silu:
                return g.Node("Mul", [x, g.Node("Sigmoid", [x])]);
            case Activation.Relu:
                return g.Node("Relu", [x]);
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }
}
