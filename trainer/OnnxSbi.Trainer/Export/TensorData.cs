using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Export;

/// <summary>Copies TorchSharp tensors into managed arrays for ONNX initializers and tests.</summary>
internal static class TensorData
{
    /// <summary>The tensor's values as float32, row-major, detached from autograd.</summary>
    public static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }
}
