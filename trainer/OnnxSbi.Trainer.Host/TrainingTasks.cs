using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Trainer.Tasks;

namespace OnnxSbi.Trainer.Host;

/// <summary>A task <c>train --task</c> can train on: its simulator, adapter, variables and the seed's budget.</summary>
internal sealed record TrainingTask(
    string Name,
    Func<ulong, Simulator> CreateSimulator,
    Func<Adapter> CreateAdapter,
    IReadOnlyList<string> InferenceVariables,
    IReadOnlyList<string> ConditionVariables,
    int SeedBatches,
    int SeedBatchSize,
    int SeedValidationSets);

/// <summary>The one place <c>--task NAME</c> is resolved to a <see cref="TrainingTask"/>.</summary>
internal static class TrainingTasks
{
    private static readonly TrainingTask[] Known =
    [
        new(TwoMoonsTask.Name, TwoMoons.CreateSimulator, TwoMoonsTask.SeedAdapter, TwoMoonsTask.InferenceVariables, TwoMoonsTask.ConditionVariables,
            TwoMoonsTask.SeedBatches, TwoMoonsTask.SeedBatchSize, TwoMoonsTask.SeedValidationSets),
    ];

    /// <summary>The task trained when --task is not given.</summary>
    public const string DefaultName = TwoMoonsTask.Name;

    /// <summary>The names --task accepts.</summary>
    public static IEnumerable<string> Names => Known.Select(t => t.Name);

    /// <summary>The task named <paramref name="name"/> (case-sensitive), or null.</summary>
    public static TrainingTask? Find(string name) => Known.FirstOrDefault(t => t.Name == name);

    /// <summary>The task named <paramref name="name"/>, or a usage error listing the valid names.</summary>
    public static TrainingTask Get(string name)
        => Find(name) ?? throw new UsageException(UnknownMessage(name));

    /// <summary>The message for an unknown task name.</summary>
    public static string UnknownMessage(string name) => $"Unknown task '{name}'. Valid tasks: {string.Join(", ", Names)}.";
}
