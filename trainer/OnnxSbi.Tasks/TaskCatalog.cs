namespace OnnxSbi.Tasks;

/// <summary>The built-in tasks, by name. A new task is one <see cref="SbiTask"/> subclass plus one line here.</summary>
public static class TaskCatalog
{
    private static readonly SbiTask[] Tasks =
    [
        new TwoMoonsTask(),
        new GaussianLinearTask(),
        new GaussianLinearUniformTask(),
        new SlcpTask(),
        new GaussianMixtureTask(),
        new BernoulliGlmTask(),
        new SirTask(),
        new LotkaVolterraTask(),
    ];

    /// <summary>Every task, in registration order.</summary>
    public static IReadOnlyList<SbiTask> All => Tasks;

    /// <summary>The tasks' names, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = Tasks.Select(t => t.Name).ToArray();

    /// <summary>Looks a task up by name (case-insensitive), listing the valid names when it is unknown.</summary>
    /// <exception cref="ArgumentException">No task has that name; the message lists the valid ones.</exception>
    public static SbiTask Get(string name)
        => TryGet(name, out var task) ? task
           : throw new ArgumentException($"Unknown task '{name}'. Valid tasks: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>Looks a task up by name (case-insensitive).</summary>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SbiTask? task)
    {
        task = Tasks.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
        return task is not null;
    }
}
