namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Runs all solver steps of a block as one graph (<see cref="SolverLoopGraph"/>): applies with
/// <see cref="SolverLoopMode.Graph"/>, and with <see cref="SolverLoopMode.Auto"/> on the CUDA provider, where the state
/// then stays on the device; on the CPU both run equally fast and the host steps.
/// </summary>
internal sealed class SolverLoopPass : CompilerPass
{
    public static SolverLoopPass Instance { get; } = new();

    public override string Name => "solver-loop";

    /// <summary>Whether a loop graph is wanted (enabled, on the provider in use: decided after the first session); recorded when not.</summary>
    public bool Wanted(CompilationContext context)
    {
        if (!context.Enabled(this)) return false;
        var mode = context.Options.SolverLoop;
        if (mode == SolverLoopMode.Graph || (mode == SolverLoopMode.Auto && context.Provider == ExecutionProvider.Cuda)) return true;
        context.Record(this, false, mode == SolverLoopMode.Host
            ? "SolverLoop Host: the runtime steps the solver"
            : $"SolverLoop Auto on provider {context.Provider}: the runtime steps the solver");
        return false;
    }

    /// <summary>Records the outcome: <paramref name="detail"/> says what was built, or why the host steps after all.</summary>
    public void Report(CompilationContext context, bool applied, string detail) => context.Record(this, applied, detail);
}
