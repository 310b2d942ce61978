namespace OnnxSbi.Diagnostics;

/// <summary>
/// The result of <see cref="PosteriorDiagnostics"/>: simulation-based calibration and BayesFlow's default
/// diagnostics for every scalar parameter, with the per-dataset arrays behind them (for plots).
/// </summary>
public sealed class DiagnosticsReport
{
    internal DiagnosticsReport(string modelPath, string source, int numDatasets, int numDraws, ulong seed, EcdfBand band,
        IReadOnlyList<double> coverageLevels, IReadOnlyList<ParameterDiagnostics> parameters, DiagnosticsTimings timings,
        IReadOnlyList<string> warnings, ArrayBatch truths, ArrayBatch conditions, PosteriorDraws draws)
    {
        ModelPath = modelPath;
        Source = source;
        NumDatasets = numDatasets;
        NumDraws = numDraws;
        Seed = seed;
        Band = band;
        CoverageLevels = coverageLevels;
        Parameters = parameters;
        Timings = timings;
        Warnings = warnings;
        Truths = truths;
        Conditions = conditions;
        Draws = draws;
    }

    /// <summary>The bundle that was checked.</summary>
    public string ModelPath { get; }

    /// <summary>Where the (θ, x) pairs came from: "simulator" or "test set".</summary>
    public string Source { get; }

    /// <summary>Datasets N.</summary>
    public int NumDatasets { get; }

    /// <summary>Posterior draws S per dataset.</summary>
    public int NumDraws { get; }

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The simultaneous ECDF band every parameter's ranks were tested against.</summary>
    public EcdfBand Band { get; }

    /// <summary>
    /// Nominal levels α of the central intervals behind <see cref="ParameterDiagnostics.Coverage"/> and
    /// <see cref="ParameterDiagnostics.CalibrationError"/>: 20 levels evenly spaced on [0.005, 0.995], BayesFlow's grid.
    /// </summary>
    public IReadOnlyList<double> CoverageLevels { get; }

    /// <summary>One entry per scalar parameter, in the manifest's order; multi-dimensional variables are flattened row-major ("theta[0]", "theta[1]", …).</summary>
    public IReadOnlyList<ParameterDiagnostics> Parameters { get; }

    /// <summary>Where the time went.</summary>
    public DiagnosticsTimings Timings { get; }

    /// <summary>Sampler warnings (e.g. a consistency step count never seen in training).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The true parameters, one row per dataset, in the model's inference variables.</summary>
    public ArrayBatch Truths { get; }

    /// <summary>The observations, one row per dataset, in the model's condition variables.</summary>
    public ArrayBatch Conditions { get; }

    /// <summary>All posterior draws, [datasets, draws, …], from the one batched sampling call.</summary>
    public PosteriorDraws Draws { get; }

    /// <summary>True when every parameter's rank ECDF stays inside the simultaneous band.</summary>
    public bool AllWithinBand => Parameters.All(p => p.WithinBand);

    /// <summary>The diagnostics of the parameter named <paramref name="name"/> (e.g. "theta[1]").</summary>
    /// <exception cref="UnknownVariableException">No parameter has that name.</exception>
    public ParameterDiagnostics this[string name]
        => Parameters.FirstOrDefault(p => p.Name == name) ?? throw new UnknownVariableException(name, Parameters.Select(p => p.Name), "parameter");
}

/// <summary>The diagnostics of one scalar parameter over N datasets. Per-dataset arrays have length N.</summary>
public sealed class ParameterDiagnostics
{
    internal ParameterDiagnostics(string name, int numDatasets, int coverageLevels)
    {
        Name = name;
        Truth = new double[numDatasets];
        Ranks = new int[numDatasets];
        PosteriorMean = new double[numDatasets];
        PosteriorSd = new double[numDatasets];
        PosteriorMedian = new double[numDatasets];
        Quantile05 = new double[numDatasets];
        Quantile95 = new double[numDatasets];
        Contraction = new double[numDatasets];
        ZScore = new double[numDatasets];
        Coverage = new double[coverageLevels];
        EcdfDifference = [];
    }

    /// <summary>"theta[0]" for element 0 of a vector variable "theta", or the variable's name for a scalar.</summary>
    public string Name { get; }

    /// <summary>The true value per dataset.</summary>
    public double[] Truth { get; }

    /// <summary>SBC rank per dataset (Talts et al. 2018): how many of the S draws lie below the truth, ties split at random; 0…S.</summary>
    public int[] Ranks { get; }

    /// <summary>F̂(z_k) − z_k of the fractional ranks at <see cref="EcdfBand.Points"/>.</summary>
    public double[] EcdfDifference { get; internal set; }

    /// <summary>Whether the whole ECDF difference curve lies inside the simultaneous band.</summary>
    public bool WithinBand { get; internal set; }

    /// <summary>Pearson's χ² statistic of the ranks binned into <see cref="ChiSquareBins"/> bins, against the discrete uniform on 0…S.</summary>
    public double ChiSquare { get; internal set; }

    /// <summary>Number of rank bins of the χ² test; degrees of freedom are one fewer.</summary>
    public int ChiSquareBins { get; internal set; }

    /// <summary>P(χ²(bins − 1) ≥ <see cref="ChiSquare"/>): small values reject uniform ranks.</summary>
    public double ChiSquarePValue { get; internal set; }

    /// <summary>
    /// BayesFlow's calibration error: the median over <see cref="DiagnosticsReport.CoverageLevels"/> of
    /// |empirical coverage − α| of central α intervals; 0 is perfect. Interval ends are type-6 sample
    /// quantiles, unbiased for any number of draws (BayesFlow's numpy default undercovers slightly at small S).
    /// </summary>
    public double CalibrationError { get; internal set; }

    /// <summary>Empirical coverage of the central interval at each of <see cref="DiagnosticsReport.CoverageLevels"/>.</summary>
    public double[] Coverage { get; }

    /// <summary>Fraction of datasets whose truth lies in the central 50% interval (quantiles 0.25, 0.75).</summary>
    public double Coverage50 { get; internal set; }

    /// <summary>Fraction of datasets whose truth lies in the central 80% interval.</summary>
    public double Coverage80 { get; internal set; }

    /// <summary>Fraction of datasets whose truth lies in the central 95% interval.</summary>
    public double Coverage95 { get; internal set; }

    /// <summary>Posterior mean per dataset.</summary>
    public double[] PosteriorMean { get; }

    /// <summary>Posterior standard deviation per dataset (n − 1 in the denominator).</summary>
    public double[] PosteriorSd { get; }

    /// <summary>Posterior median per dataset.</summary>
    public double[] PosteriorMedian { get; }

    /// <summary>Posterior 5% quantile per dataset (lower end of the central 90% interval).</summary>
    public double[] Quantile05 { get; }

    /// <summary>Posterior 95% quantile per dataset (upper end of the central 90% interval).</summary>
    public double[] Quantile95 { get; }

    /// <summary>Variance of the true values over the datasets (n − 1), the prior variance in contraction.</summary>
    public double PriorVariance { get; internal set; }

    /// <summary>Posterior contraction 1 − Var_post/Var_prior per dataset: 1 when the data pin the parameter down, 0 when they say nothing.</summary>
    public double[] Contraction { get; }

    /// <summary>Mean of <see cref="Contraction"/>.</summary>
    public double MeanContraction { get; internal set; }

    /// <summary>Posterior z-score (posterior mean − truth)/posterior sd per dataset.</summary>
    public double[] ZScore { get; }

    /// <summary>Mean of <see cref="ZScore"/>: a bias in posterior standard deviations.</summary>
    public double MeanZScore { get; internal set; }

    /// <summary>Standard deviation of <see cref="ZScore"/>: about 1 when calibrated, above 1 when overconfident.</summary>
    public double ZScoreSd { get; internal set; }

    /// <summary>Median of |<see cref="ZScore"/>|: about 0.674 (the half-normal median) when calibrated.</summary>
    public double MedianAbsZScore { get; internal set; }

    /// <summary>
    /// Root mean squared error of the posterior median, normalized by the range (max − min) of the true
    /// values, as BayesFlow normalizes.
    /// </summary>
    public double Nrmse { get; internal set; }

    /// <summary>Coefficient of determination of the posterior median as a predictor of the truth: 1 − SS_res/SS_tot.</summary>
    public double RSquared { get; internal set; }
}

/// <summary>Wall time of a diagnostics run, in seconds.</summary>
/// <param name="SimulationSeconds">Simulating the datasets (0 for a stored test set).</param>
/// <param name="SamplingSeconds">The one batched posterior sampling call.</param>
/// <param name="BandSeconds">Computing the simultaneous band (near 0 when it was cached).</param>
/// <param name="AnalysisSeconds">Ranks, quantiles, coverage and summary statistics.</param>
/// <param name="TotalSeconds">The whole run.</param>
/// <param name="DrawsPerSecond">Posterior draws per second of sampling.</param>
public sealed record DiagnosticsTimings(double SimulationSeconds, double SamplingSeconds, double BandSeconds, double AnalysisSeconds, double TotalSeconds, double DrawsPerSecond);
