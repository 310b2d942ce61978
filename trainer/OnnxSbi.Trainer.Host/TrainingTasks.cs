using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks;

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
    // The built-in task catalogue (OnnxSbi.Tasks) is the only source of tasks; nothing here names one.
    private static readonly TrainingTask[] Known = TaskCatalog.All.Select(t => new TrainingTask(
        t.Name, t.CreateSimulator, t.CreateAdapter, t.InferenceVariables, t.ConditionVariables,
        t.SeedBudget.Batches, t.SeedBudget.BatchSize, t.SeedBudget.ValidationSets)).ToArray();

    /// <summary>The task trained when --task is not given: the catalogue's first.</summary>
    public static string DefaultName => Known[0].Name;

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
