using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Trainer.Tests;

/// <summary>Runs an exported ModelProto in ONNX Runtime (CPU) on float inputs, for parity tests.</summary>
internal static class OrtEval
{
    public static Dictionary<string, float[]> Run(ModelProto model, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var values = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(i.Data, i.Shape)).ToList();
        try
        {
            var outputNames = session.OutputNames.ToArray();
            using var results = session.Run(new RunOptions(), inputs.Select(i => i.Name).ToArray(), values, outputNames);
            var map = new Dictionary<string, float[]>();
            for (int k = 0; k < outputNames.Length; k++) map[outputNames[k]] = results[k].GetTensorDataAsSpan<float>().ToArray();
            return map;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }
}
