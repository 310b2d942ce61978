using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime;

/// <summary>Which ONNX Runtime execution provider runs the graphs.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU provider (default).</summary>
    Cpu,
    /// <summary>The CUDA provider; needs a GPU and the Microsoft.ML.OnnxRuntime.Gpu native package.</summary>
    Cuda,
}

/// <summary>The arithmetic of the networks' hidden layers.</summary>
public enum NetworkPrecision
{
    /// <summary>The exported float32 graph, unchanged (default).</summary>
    Float32,

    /// <summary>
    /// Hidden layers (at least 32 inputs and outputs) run as int8 matrix products: weights quantized per
    /// output column at load time, activations per call. Faster than float32 for wide hidden layers, at a small
    /// relative error in the network's output (measured: docs/BENCHMARKS.md, "Int8 precision: speed and posterior
    /// quality"; which CPUs: docs/precision.md); check the posterior with <c>onnxsbi-bench c2st --precision int8</c>
    /// or SBC before deploying it. CPU provider only.
    /// </summary>
    Int8,
}

/// <summary>How a coupling flow's inverse pass (sampling) runs.</summary>
public enum CouplingInverseMode
{
    /// <summary>
    /// The subnets in ONNX Runtime and the transforms, ActNorms and permutations in the runtime, when the
    /// bundle's manifest lists its inverse steps (default); otherwise the whole inverse graph. Same draws
    /// to float32 rounding, fewer kernels per block (docs/BENCHMARKS.md).
    /// </summary>
    Native,

    /// <summary>Always the bundle's whole inverse graph in ONNX Runtime.</summary>
    Graph,
}

/// <summary>Where the step loop of flow matching (fixed-step methods) and of the consistency sampler runs.</summary>
public enum SolverLoopMode
{
    /// <summary>
    /// <see cref="Graph"/> with the CUDA provider — or <see cref="Host"/> if its session cannot be created there —
    /// and <see cref="Host"/> on the CPU, where both run equally fast (default).
    /// </summary>
    Auto,

    /// <summary>
    /// The runtime steps the solver: one network evaluation per session run, the state in host memory between
    /// steps. Every method, including the adaptive ones.
    /// </summary>
    Host,

    /// <summary>
    /// All steps of a block in one session run: the bundle's network inlined into an ONNX <c>Loop</c> (once per
    /// Runge–Kutta stage), so with the CUDA provider the state stays on the device from the first step to the
    /// last. Fixed-step methods (euler, rk4) and the consistency sampler; asking for an adaptive method is
    /// refused. Same noise and draws as <see cref="Host"/> to float32 rounding.
    /// </summary>
    Graph,
}

/// <summary>How a loaded model runs. Chosen once, at load time.</summary>
public sealed record RuntimeOptions
{
    /// <summary>The execution provider; CPU by default.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>CUDA device ordinal.</summary>
    public int DeviceId { get; init; }

    /// <summary>Use the CPU when the CUDA provider cannot be created (no GPU, no CUDA libraries). When false, loading fails instead.</summary>
    public bool FallbackToCpu { get; init; } = true;

    /// <summary>Arithmetic of the hidden layers; float32 by default.</summary>
    public NetworkPrecision Precision { get; init; } = NetworkPrecision.Float32;

    /// <summary>ONNX Runtime intra-op threads; 0 takes the bundle's recorded hint, else 1: the cores run <see cref="ParallelBlocks"/> instead (measured, docs/BENCHMARKS.md). Set 1 when many models sample concurrently.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Let ONNX Runtime's worker threads spin between operators; null takes the bundle's hint, else off (docs/BENCHMARKS.md).</summary>
    public bool? AllowSpinning { get; init; }

    /// <summary>
    /// Rows per network evaluation; larger requests are processed in chunks of this size. 0 takes the bundle's
    /// hint, else 512 on the CPU and 16,384 on CUDA, where the bundle's (CPU-measured) hint is not used
    /// (measured, docs/BENCHMARKS.md). Draws depend on it: each block has its own noise stream, so the same
    /// seed gives other draws on CUDA than on the CPU unless both run the same chunk size.
    /// </summary>
    public int ChunkSize { get; init; }

    /// <summary>
    /// Blocks of <see cref="ChunkSize"/> rows evaluated at once, each on its own thread (1: one after
    /// another). 0 takes the bundle's hint, else one per core when <see cref="IntraOpThreads"/> is not set,
    /// and 1 otherwise; on CUDA 1 (one large block keeps the device busy). Draws do not depend on it. A server
    /// that runs many calls at once already keeps its cores busy: 1 there avoids cores × calls threads. Several blocks on
    /// single-threaded evaluations scale better than one block on several intra-op threads, whose elementwise
    /// kernels split badly: with <see cref="IntraOpThreads"/> 1 and this the core count, use a chunk size that
    /// splits the request into at least that many blocks (docs/BENCHMARKS.md).
    /// </summary>
    public int ParallelBlocks { get; init; }

    /// <summary>How a coupling flow samples: step by step with native transforms (default) or through its whole inverse graph.</summary>
    public CouplingInverseMode CouplingInverse { get; init; } = CouplingInverseMode.Native;

    /// <summary>Where flow matching's fixed-step integration and the consistency sampler loop over steps; no effect on coupling flows.</summary>
    public SolverLoopMode SolverLoop { get; init; } = SolverLoopMode.Auto;

    /// <summary>
    /// Compiler passes to skip, by the name <see cref="Compilation.CompiledPass.Name"/> shows in
    /// <see cref="PosteriorModel.Plan"/>: "coupling-cut", "subnet-split", "residual-blocks", "int8", "solver-loop"
    /// (ONNX Runtime's disabled optimizers, for OnnxSbi's compiler passes); empty by default. For profiling a pass
    /// against the graph without it, and for working around a pass that misbehaves on a bundle. A disabled pass is
    /// in the plan as skipped, "disabled by RuntimeOptions.DisabledPasses". Every pass is an exact rewrite, so
    /// disabling one changes draws only by float32 rounding: a disabled "coupling-cut" runs the whole inverse
    /// graph (and so splits no subnets). The passes that <see cref="Precision"/> Int8 and <see cref="SolverLoop"/>
    /// Graph ask for, "int8" and "solver-loop", cannot be disabled with them. An unknown name is refused at load.
    /// </summary>
    public IReadOnlyCollection<string> DisabledPasses { get; init; } = [];

    /// <summary>
    /// The most draws (conditions × draws per condition) one call may request. Larger requests are
    /// refused with <see cref="InvalidRequestException"/> before any native call; memory per call is
    /// bounded by the draws returned. Independently of this cap, a call whose draws × dimensions exceed
    /// <see cref="Array.MaxLength"/> values is refused the same way.
    /// </summary>
    public long MaxDrawsPerCall { get; init; } = 50_000_000;

    /// <summary>Checks the values, naming the first bad one.</summary>
    public void Validate()
    {
        if (DeviceId < 0) throw new InvalidRequestException($"DeviceId must not be negative; got {DeviceId}.");
        if (IntraOpThreads < 0) throw new InvalidRequestException($"IntraOpThreads must not be negative; got {IntraOpThreads}.");
        if (ParallelBlocks < 0) throw new InvalidRequestException($"ParallelBlocks must not be negative; got {ParallelBlocks}.");
        if (ChunkSize < 0) throw new InvalidRequestException($"ChunkSize must not be negative; got {ChunkSize}.");
        if (!Enum.IsDefined(CouplingInverse)) throw new InvalidRequestException($"CouplingInverse {(int)CouplingInverse} is not a CouplingInverseMode value.");
        if (!Enum.IsDefined(SolverLoop)) throw new InvalidRequestException($"SolverLoop {(int)SolverLoop} is not a SolverLoopMode value.");
        if (!Enum.IsDefined(Precision)) throw new InvalidRequestException($"Precision {(int)Precision} is not a NetworkPrecision value.");
        if (Precision == NetworkPrecision.Int8 && Provider != ExecutionProvider.Cpu)
            throw new InvalidRequestException($"Precision Int8 runs on the CPU provider only (its quantized matrix product has no {Provider} kernel); use Float32 with {Provider}.");
        if (DisabledPasses is null) throw new InvalidRequestException("DisabledPasses must not be null; leave it empty to run every pass.");
        var names = Compilation.GraphCompiler.PassNames;
        foreach (var name in DisabledPasses)
            if (!names.Contains(name, StringComparer.Ordinal))
                throw new InvalidRequestException($"DisabledPasses names no compiler pass '{name}'; the passes are {string.Join(", ", names.Select(n => $"'{n}'"))}.");
        if (Precision == NetworkPrecision.Int8 && DisabledPasses.Contains(Compilation.Int8QuantizationPass.Instance.Name, StringComparer.Ordinal))
            throw new InvalidRequestException("DisabledPasses disables 'int8', which Precision Int8 is: use Float32 to run the graph unquantized.");
        if (SolverLoop == SolverLoopMode.Graph && DisabledPasses.Contains(Compilation.SolverLoopPass.Instance.Name, StringComparer.Ordinal))
            throw new InvalidRequestException("DisabledPasses disables 'solver-loop', which SolverLoop Graph requires: use Host (or Auto) to step the solver from the runtime.");
        if (MaxDrawsPerCall <= 0) throw new InvalidRequestException($"MaxDrawsPerCall must be positive; got {MaxDrawsPerCall}.");
    }
}

/// <summary>Per-call sampling settings. Unset values take the bundle's defaults.</summary>
public sealed record SamplingOptions
{
    /// <summary>Seed of the base noise; equal seeds give equal draws.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Flow matching's integrator; null takes the bundle's default (its manifest's <c>default_method</c>). Parse a
    /// user's text ("euler", "rk4", "dopri5" or "rk45", "tsit5") with <see cref="IntegratorKinds.Parse"/>.
    /// </summary>
    public IntegratorKind? Method { get; init; }

    /// <summary>Steps of a fixed-step integrator, or of the consistency sampler.</summary>
    public int? Steps { get; init; }

    /// <summary>Absolute tolerance of an adaptive integrator.</summary>
    public double? Atol { get; init; }

    /// <summary>Relative tolerance of an adaptive integrator.</summary>
    public double? Rtol { get; init; }
}
