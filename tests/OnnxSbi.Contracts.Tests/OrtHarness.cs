using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Contracts.Tests;

/// <summary>One output tensor copied out of ONNX Runtime: its shape and its elements.</summary>
internal sealed record OrtTensor(long[] Shape, TensorElementType ElementType, Array Data)
{
    public float[] Floats => ElementType == TensorElementType.Float
        ? (float[])Data
        : throw new InvalidOperationException($"Output is {ElementType}, not Float.");

    public bool[] Bools => ElementType == TensorElementType.Bool
        ? (bool[])Data
        : throw new InvalidOperationException($"Output is {ElementType}, not Bool.");
}

/// <summary>
/// Loads a <see cref="ModelProto"/> into an ONNX Runtime session (CPU) and runs it through the
/// OrtValue API, copying every output out before the native values are released.
/// </summary>
internal static class OrtHarness
{
    public static InferenceSession Load(ModelProto model) => new(model.ToByteArray());

    public static IReadOnlyDictionary<string, OrtTensor> Run(ModelProto model, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        using var session = Load(model);
        return Run(session, inputs);
    }

    public static IReadOnlyDictionary<string, OrtTensor> Run(InferenceSession session, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        var values = new List<OrtValue>(inputs.Length);
        try
        {
            // The OrtValues pin the managed arrays; they stay valid until disposed below.
            foreach (var (_, data, shape) in inputs) values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            var outputNames = session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputNames);
            var result = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
            int k = 0;
            foreach (var output in outputs)
            {
                var info = output.GetTensorTypeAndShape();
                Array data = info.ElementDataType switch
                {
                    TensorElementType.Float => output.GetTensorDataAsSpan<float>().ToArray(),
                    TensorElementType.Bool => output.GetTensorDataAsSpan<bool>().ToArray(),
                    TensorElementType.Int64 => output.GetTensorDataAsSpan<long>().ToArray(),
                    var other => throw new NotSupportedException($"Output '{outputNames[k]}' has element type {other}."),
                };
                result[outputNames[k++]] = new OrtTensor(info.Shape, info.ElementDataType, data);
            }
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
