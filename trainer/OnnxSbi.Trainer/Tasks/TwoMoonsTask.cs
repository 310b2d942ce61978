using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Trainer.Tasks;

/// <summary>The reference workload: BayesFlow's "Two Moons" tutorial (ALGORITHMS.md §1).</summary>
public static class TwoMoonsTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string Name = "two_moons";

    /// <summary>User-side parameter names.</summary>
    public static IReadOnlyList<string> InferenceVariables { get; } = [TwoMoons.Parameters];

    /// <summary>User-side observation names.</summary>
    public static IReadOnlyList<string> ConditionVariables { get; } = [TwoMoons.Observations];

    /// <summary>
    /// The tutorial's adapter: to_array → convert float64 to float32 → standardize everything except
    /// theta → rename theta to inference_variables and x to inference_conditions.
    /// </summary>
    public static Adapter SeedAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Standardize(exclude: [TwoMoons.Parameters])
        .Rename(TwoMoons.Parameters, Adapter.InferenceVariables)
        .Rename(TwoMoons.Observations, Adapter.InferenceConditions);

    /// <summary>The seed's offline budget: 512 batches of 64.</summary>
    public const int SeedBatches = 512;

    /// <summary>The seed's batch size.</summary>
    public const int SeedBatchSize = 64;

    /// <summary>The seed's validation sets.</summary>
    public const int SeedValidationSets = 300;
}
