namespace OnnxSbi.Diagnostics;

/// <summary>
/// Settings of the classifier two-sample test. Defaults follow sbibm's C2ST with scikit-learn's
/// MLPClassifier defaults (docs/algorithms.md#c2st).
/// </summary>
/// <param name="Folds">Cross-validation folds (sbibm: 5); at least 2.</param>
/// <param name="Seed">Seed of the fold split, weight initialization and minibatch shuffling.</param>
/// <param name="MaxEpochs">Upper bound on training epochs per fold (scikit-learn's max_iter; sbibm passes 10,000, reached only by separable data).</param>
/// <param name="BatchSize">Minibatch size (scikit-learn: min(200, n)).</param>
/// <param name="LearningRate">Adam step size (scikit-learn: 1e-3).</param>
/// <param name="Tolerance">Training stops once the epoch loss has failed to improve on its best by this much (scikit-learn's tol, 1e-4) …</param>
/// <param name="NoImprovementEpochs">… for more than this many consecutive epochs (scikit-learn's n_iter_no_change, 10).</param>
/// <param name="L2Penalty">L2 weight penalty α (scikit-learn: 1e-4).</param>
/// <param name="HiddenUnitsPerDimension">Hidden width per parameter dimension: two layers of this × d units (sbibm: 10).</param>
/// <param name="ZScore">Standardize both sets with the reference's mean and standard deviation first (sbibm: on).</param>
/// <param name="MaxDegreeOfParallelism">Folds trained at once; -1 uses every core. The score does not depend on it.</param>
public sealed record C2stOptions(
    int Folds = 5,
    ulong Seed = 1,
    int MaxEpochs = 1000,
    int BatchSize = 200,
    double LearningRate = 1e-3,
    double Tolerance = 1e-4,
    int NoImprovementEpochs = 10,
    double L2Penalty = 1e-4,
    int HiddenUnitsPerDimension = 10,
    bool ZScore = true,
    int MaxDegreeOfParallelism = -1)
{
    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first option outside its valid range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, string range, object value)
        {
            if (!ok) throw new InvalidRequestException($"C2ST option '{name}' must be {range}; received {value}.");
        }
        Require(Folds >= 2, nameof(Folds), "at least 2", Folds);
        Require(MaxEpochs >= 1, nameof(MaxEpochs), "at least 1", MaxEpochs);
        Require(BatchSize >= 1, nameof(BatchSize), "at least 1", BatchSize);
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), "a finite number > 0", LearningRate);
        Require(Tolerance >= 0 && double.IsFinite(Tolerance), nameof(Tolerance), "a finite number >= 0", Tolerance);
        Require(NoImprovementEpochs >= 1, nameof(NoImprovementEpochs), "at least 1", NoImprovementEpochs);
        Require(L2Penalty >= 0 && double.IsFinite(L2Penalty), nameof(L2Penalty), "a finite number >= 0", L2Penalty);
        Require(HiddenUnitsPerDimension >= 1, nameof(HiddenUnitsPerDimension), "at least 1", HiddenUnitsPerDimension);
        Require(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), "-1 or at least 1", MaxDegreeOfParallelism);
    }
}
