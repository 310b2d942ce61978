using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>How a dense layer's weights start.</summary>
internal enum DenseInit
{
    /// <summary>He (Kaiming) normal, truncated at two standard deviations as Keras does; zero bias.</summary>
    HeNormal,
    /// <summary>All zeros, so the layer's output starts at zero (coupling subnets start as the identity).</summary>
    Zeros,
}

/// <summary>A fully connected layer y = x·Wᵀ + b that writes itself into ONNX as one Gemm.</summary>
internal sealed class Dense : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear;

    public Dense(string name, long inFeatures, long outFeatures, DenseInit init = DenseInit.HeNormal) : base(name)
    {
        linear = nn.Linear(inFeatures, outFeatures, hasBias: true);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        using (no_grad())
        {
            if (init == DenseInit.Zeros)
            {
                linear.weight!.zero_();
            }
            else
            {
                // Keras he_normal: truncated normal (±2σ) with σ = √(2/fan_in)/0.8796, the 0.8796
                // restoring the variance lost by truncation (He et al. 2015).
                double std = Math.Sqrt(2.0 / inFeatures) / 0.87962566103423978;
                // Values beyond ±2σ are redrawn (TorchSharp 0.107's trunc_normal_ returns near-zero values).
                var w = linear.weight!;
                w.normal_(0.0, std);
                for (int i = 0; i < 20; i++)
                {
                    using var outside = w.abs().gt(2 * std);
                    if (!outside.any().item<bool>()) break;
                    using var fresh = randn_like(w) * std;
                    w.copy_(where(outside, fresh, w));
                }
                w.clamp_(-2 * std, 2 * std);
            }
            linear.bias!.zero_();
        }
        RegisterComponents();
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    public Parameter Weight => linear.weight!;

    public Parameter Bias => linear.bias!;

    public override Tensor forward(Tensor x) => linear.forward(x);

    /// <summary>Writes Gemm(x, W, b, transB=1) and returns the output's name.</summary>
    public string Emit(GraphBuilder g, string x, string prefix)
    {
        string w = g.Initializer(prefix + "_W", Export.TensorData.Floats(Weight), OutFeatures, InFeatures);
        string b = g.Initializer(prefix + "_b", Export.TensorData.Floats(Bias), OutFeatures);
        return g.Node("Gemm", [x, w, b], attributes: ("transB", 1L));
    }
}
