using System.Collections.ObjectModel;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// What a bundle's manifest says about its model, as an immutable snapshot: the variables, the network family, the
/// sampler defaults, the training record, the metrics and the description. Taken once when the bundle is read.
/// </summary>
public sealed class ModelDescription
{
    private ModelDescription(BundleManifest m)
    {
        Family = m.Family;
        InferenceVariables = m.InferenceVariables.Select(v => new VariableDescription(v.Name, v.Shape.ToArray())).ToArray();
        ConditionVariables = m.ConditionVariables.Select(v => new VariableDescription(v.Name, v.Shape.ToArray())).ToArray();
        InferenceDim = m.InferenceDim;
        ConditionDim = m.ConditionDim;
        GraphRoles = m.Graphs.Select(g => g.Role).ToArray();
        Producer = m.Producer is null ? "" : $"{m.Producer.Name} {m.Producer.Version}".Trim();
        CreatedUtc = m.Producer?.CreatedUtc ?? "";
        Description = m.Description;
        Metrics = new ReadOnlyDictionary<string, double>(m.Metrics.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
        Training = m.Training is null ? null : TrainingSummary.From(m.Training);
        FlowMatching = m.Family == NetworkFamily.FlowMatching ? FlowMatchingSamplerDefaults.From(m.FlowMatching) : null;
        Consistency = m.Consistency is null ? null : ConsistencySamplerDefaults.From(m.Consistency);
        CouplingFlow = m.CouplingFlow is null ? null : new CouplingFlowDescription(m.CouplingFlow.Transform, m.CouplingFlow.Depth, m.CouplingFlow.InverseSteps.Count);
    }

    /// <summary>A snapshot of <paramref name="manifest"/>; later changes to it do not show.</summary>
    internal static ModelDescription From(BundleManifest manifest) => new(manifest);

    /// <summary>The network family that produced the graphs.</summary>
    public NetworkFamily Family { get; }

    /// <summary>The user-facing parameters, before the adapter.</summary>
    public IReadOnlyList<VariableDescription> InferenceVariables { get; }

    /// <summary>The user-facing observed variables, before the adapter.</summary>
    public IReadOnlyList<VariableDescription> ConditionVariables { get; }

    /// <summary>D: the width of the network-side parameters.</summary>
    public int InferenceDim { get; }

    /// <summary>C: the width of the network-side conditions.</summary>
    public int ConditionDim { get; }

    /// <summary>The graph roles the bundle holds.</summary>
    public IReadOnlyList<string> GraphRoles { get; }

    /// <summary>The producing library and its version (e.g. "OnnxSbi.Trainer 0.1.0").</summary>
    public string Producer { get; }

    /// <summary>When the bundle was exported, as the manifest records it (ISO 8601, UTC).</summary>
    public string CreatedUtc { get; }

    /// <summary>One line saying what the model is.</summary>
    public string Description { get; }

    /// <summary>The metrics recorded at export (losses, C2ST, …).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>How the network was trained; null when the manifest has no training record.</summary>
    public TrainingSummary? Training { get; }

    /// <summary>Flow matching's integrator defaults (the runtime's where the manifest leaves them unset); null for other families.</summary>
    public FlowMatchingSamplerDefaults? FlowMatching { get; }

    /// <summary>The consistency sampler's parameters; null for other families.</summary>
    public ConsistencySamplerDefaults? Consistency { get; }

    /// <summary>The coupling flow's transform; null for other families.</summary>
    public CouplingFlowDescription? CouplingFlow { get; }
}

/// <summary>A user-facing variable: its name and per-sample shape (without the batch dimension).</summary>
/// <param name="Name">The variable's name, e.g. "theta".</param>
/// <param name="Shape">Its per-sample shape, e.g. [2].</param>
public sealed record VariableDescription(string Name, IReadOnlyList<long> Shape);

/// <summary>The training record of a bundle.</summary>
/// <param name="Mode">The training mode (online, offline, …).</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="OptimizerSteps">Optimizer steps taken.</param>
/// <param name="Seconds">Training time.</param>
/// <param name="SimulationsPerEpoch">Simulations per epoch.</param>
/// <param name="Seed">The training seed.</param>
/// <param name="Loss">Training loss per epoch.</param>
/// <param name="ValidationLoss">Validation loss per epoch.</param>
/// <param name="ConfigurationJson">The full training configuration, as JSON.</param>
public sealed record TrainingSummary(string Mode, int Epochs, long OptimizerSteps, double Seconds, long SimulationsPerEpoch, ulong Seed,
    IReadOnlyList<double> Loss, IReadOnlyList<double> ValidationLoss, string ConfigurationJson)
{
    internal static TrainingSummary From(TrainingRecord t)
        => new(t.Mode, t.Epochs, t.OptimizerSteps, t.Seconds, t.NumSimulations, t.Seed, t.Loss.ToArray(), t.ValLoss.ToArray(), t.ConfigJson);
}

/// <summary>Flow matching's integrator defaults, as sampling uses them.</summary>
/// <param name="Method">The default integrator.</param>
/// <param name="Steps">Steps of a fixed-step method.</param>
/// <param name="Atol">Absolute tolerance of an adaptive method.</param>
/// <param name="Rtol">Relative tolerance of an adaptive method.</param>
/// <param name="MinSteps">Fewest steps an adaptive method takes.</param>
/// <param name="MaxSteps">Most steps an adaptive method takes.</param>
public sealed record FlowMatchingSamplerDefaults(Integrators.IntegratorKind Method, int Steps, double Atol, double Rtol, int MinSteps, int MaxSteps)
{
    internal static FlowMatchingSamplerDefaults From(FlowMatchingSampler? m)
    {
        var d = Samplers.FlowMatchingDefaults.From(m);
        return new(d.Method, d.Steps, d.Atol, d.Rtol, d.MinSteps, d.MaxSteps);
    }
}

/// <summary>The consistency sampler's parameters.</summary>
/// <param name="DefaultSteps">Sampling steps when a request does not say (10 when the manifest leaves it unset).</param>
/// <param name="MaxTime">The largest time T.</param>
/// <param name="Eps">The smallest time ε.</param>
/// <param name="Rho">The time grid's ρ (7 when unset).</param>
/// <param name="TrainedDiscretizations">The grid sizes N(k) seen in training.</param>
public sealed record ConsistencySamplerDefaults(int DefaultSteps, double MaxTime, double Eps, double Rho, IReadOnlyList<int> TrainedDiscretizations)
{
    internal static ConsistencySamplerDefaults From(ConsistencySampler c)
        => new(c.DefaultSteps > 0 ? c.DefaultSteps : 10, c.MaxTime, c.Eps, c.Rho > 0 ? c.Rho : 7, c.TrainedDiscretizations.ToArray());
}

/// <summary>A coupling flow's structure.</summary>
/// <param name="Transform">"affine" or "spline".</param>
/// <param name="Depth">Coupling layers.</param>
/// <param name="InverseSteps">Inverse steps the manifest lists for the native inverse (0: the whole inverse graph runs).</param>
public sealed record CouplingFlowDescription(string Transform, int Depth, int InverseSteps);
