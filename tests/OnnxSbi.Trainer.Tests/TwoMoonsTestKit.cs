using OnnxSbi.Runtime;
using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Tests;

/// <summary>Short two-moons trainings scored like the product scores them: export, runtime sampling, C2ST against exact draws.</summary>
internal static class TwoMoonsTestKit
{
    /// <summary>Trains offline, exports to a temporary bundle, draws through the runtime at x = (0, 0) and returns C2ST.</summary>
    public static (double C2st, string Bundle) TrainAndScore(Func<int, int, PosteriorNetwork> build, int batches, int epochs, int draws, ulong seed, string directory, double learningRate = 5e-4, int batchSize = 64)
    {
        var options = new TrainingOptions { Epochs = epochs, BatchSize = batchSize, Seed = seed, LearningRate = learningRate };
        var task = new TwoMoonsTask();
        using var workflow = new BasicWorkflow(task.CreateSimulator(seed), task.CreateAdapter(),
            task.InferenceVariables, task.ConditionVariables, build);
        workflow.FitOffline(batches * batchSize, 300, options);
        string bundle = Path.Combine(directory, "model.onnxsbi");
        workflow.Export(bundle, "test");
        using var model = PosteriorModel.Load(bundle);
        var theta = model.Sample(new ArrayBatch(1).Set("x", [0.0, 0.0], 2), draws, new SamplingOptions { Seed = seed })["theta"];
        double[] reference = TwoMoonsPosterior.SampleExact(0, 0, draws, seed: 99);
        return (C2st.Score(reference, theta, 2), bundle);
    }
}
