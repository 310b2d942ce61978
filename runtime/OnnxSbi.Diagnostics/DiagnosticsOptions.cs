namespace OnnxSbi.Diagnostics;

/// <summary>Settings of a <see cref="PosteriorDiagnostics"/> run.</summary>
public sealed record DiagnosticsOptions
{
    /// <summary>
    /// Datasets N. With a simulator, N datasets are simulated (1000 when unset). With a test set, the first
    /// N rows are used (all rows when unset).
    /// </summary>
    public int? NumDatasets { get; init; }

    /// <summary>Posterior draws S per dataset; ranks lie in 0…S.</summary>
    public int NumDraws { get; init; } = 500;

    /// <summary>
    /// One seed fixes the whole run: the simulation uses it directly, and the posterior draws and the
    /// tie-breaking of ranks use streams derived from it.
    /// </summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Simultaneous level of the ECDF band, 1 − α.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>
    /// Sampler settings (integrator, steps, tolerances); unset values take the bundle's defaults. Its
    /// <see cref="SamplingOptions.Seed"/> is replaced by one derived from <see cref="Seed"/>.
    /// </summary>
    public SamplingOptions? Sampling { get; init; }

    /// <summary>Checks the values, naming the first bad one.</summary>
    /// <exception cref="InvalidRequestException">A value outside its range.</exception>
    public void Validate()
    {
        if (NumDatasets is < 2) throw new InvalidRequestException($"NumDatasets must be at least 2 (variances and R² need two datasets); got {NumDatasets}.");
        if (NumDraws < 2) throw new InvalidRequestException($"NumDraws must be at least 2 (posterior variances need two draws); got {NumDraws}.");
        if (!(Confidence > 0 && Confidence < 1)) throw new InvalidRequestException($"Confidence must lie in (0, 1); got {Confidence}.");
    }
}
