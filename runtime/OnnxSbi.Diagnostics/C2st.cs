using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Diagnostics;

/// <summary>
/// The classifier two-sample test as sbibm scores posterior approximations (Lopez-Paz &amp; Oquab 2017;
/// Lueckmann et al. 2021; docs/algorithms.md#c2st): the cross-validated accuracy of an MLP trained to tell
/// reference draws (label 0) from model draws (label 1). 0.5 means indistinguishable, 1.0 fully separated.
/// </summary>
/// <remarks>
/// Differences from sbibm, all statistically neutral: folds are stratified (each fold holds the same
/// share of both sets, as scikit-learn's StratifiedKFold), each fold has its own random stream for
/// initialization and shuffling, and the network runs in float32.
/// </remarks>
public static class C2st
{
    /// <summary>
    /// Scores <paramref name="model"/> draws against <paramref name="reference"/> draws, both row-major
    /// with <paramref name="dim"/> values per row (sbibm uses 10,000 rows each).
    /// </summary>
    /// <returns>The mean test accuracy over the folds, in [0, 1].</returns>
    public static double Score(ReadOnlySpan<double> reference, ReadOnlySpan<double> model, int dim, C2stOptions? options = null)
        => Run(reference, model, dim, options ?? new C2stOptions()).Score;

    /// <summary>Per-fold outcome: test accuracy and the epochs trained.</summary>
    internal readonly record struct FoldResult(double Accuracy, int Epochs, double FinalLoss);

    /// <summary>The mean accuracy and the per-fold details.</summary>
    internal sealed record Result(double Score, FoldResult[] Folds);

    internal static Result Run(ReadOnlySpan<double> reference, ReadOnlySpan<double> model, int dim, C2stOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (dim < 1)
            throw new InvalidRequestException($"Argument 'dim' must be at least 1; received {dim}.");
        int nRef = CheckSet(reference, dim, "reference", options.Folds);
        int nModel = CheckSet(model, dim, "model", options.Folds);

        // z-score with the reference's mean and (n−1) standard deviation, as sbibm does with torch.std.
        var mean = new double[dim];
        var scale = new double[dim];
        for (int k = 0; k < dim; k++)
        {
            if (!options.ZScore) { scale[k] = 1; continue; }
            double m = 0;
            for (int i = 0; i < nRef; i++) m += reference[i * dim + k];
            m /= nRef;
            double ss = 0;
            for (int i = 0; i < nRef; i++) ss += (reference[i * dim + k] - m) * (reference[i * dim + k] - m);
            double sd = Math.Sqrt(ss / Math.Max(1, nRef - 1));
            if (!(sd > 0))
                throw new InvalidRequestException($"C2ST cannot z-score: the reference draws have zero spread in dimension {k} (all equal {m}).");
            mean[k] = m;
            scale[k] = 1 / sd;
        }
        int n = nRef + nModel;
        var data = new float[n * dim];
        var labels = new float[n];
        for (int i = 0; i < nRef; i++)
            for (int k = 0; k < dim; k++) data[i * dim + k] = (float)((reference[i * dim + k] - mean[k]) * scale[k]);
        for (int i = 0; i < nModel; i++)
        {
            for (int k = 0; k < dim; k++) data[(nRef + i) * dim + k] = (float)((model[i * dim + k] - mean[k]) * scale[k]);
            labels[nRef + i] = 1f;
        }

        int[][] folds = StratifiedFolds(nRef, nModel, options.Folds, options.Seed);
        var results = new FoldResult[options.Folds];
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism,
        };
        Parallel.For(0, options.Folds, parallel, f => results[f] = RunFold(data, labels, dim, folds, f, options));
        return new Result(results.Average(r => r.Accuracy), results);
    }

    private static int CheckSet(ReadOnlySpan<double> set, int dim, string name, int folds)
    {
        if (set.Length % dim != 0)
            throw new ShapeMismatchException(name, $"[n, {dim}] (a multiple of {dim} values)", $"{set.Length} values");
        int rows = set.Length / dim;
        if (rows < folds)
            throw new ShapeMismatchException(name, $"[n >= {folds} (one row per fold), {dim}]", $"[{rows}, {dim}]");
        for (int i = 0; i < set.Length; i++)
        {
            if (!double.IsFinite(set[i]))
                throw new NonFiniteValueException(name, i / dim, set[i], "in C2ST input");
        }
        return rows;
    }

    /// <summary>
    /// Splits each class, shuffled, into <paramref name="folds"/> near-equal parts (the first n mod K parts
    /// one larger, as scikit-learn does); fold f is part f of both classes.
    /// </summary>
    internal static int[][] StratifiedFolds(int nRef, int nModel, int folds, ulong seed)
    {
        var rng = Xoshiro256.Create(seed, 0);
        var parts = Enumerable.Range(0, folds).Select(_ => new List<int>()).ToArray();
        foreach (var (start, count) in new[] { (0, nRef), (nRef, nModel) })
        {
            int[] idx = Enumerable.Range(start, count).ToArray();
            Shuffle(idx, ref rng);
            int at = 0;
            for (int f = 0; f < folds; f++)
            {
                int size = count / folds + (f < count % folds ? 1 : 0);
                parts[f].AddRange(idx.AsSpan(at, size).ToArray());
                at += size;
            }
        }
        return parts.Select(p => p.ToArray()).ToArray();
    }

    private static void Shuffle(Span<int> items, ref Xoshiro256 rng)
    {
        // Fisher–Yates (Durstenfeld 1964).
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static FoldResult RunFold(float[] data, float[] labels, int dim, int[][] folds, int fold, C2stOptions o)
    {
        int[] test = folds[fold];
        int[] train = folds.Where((_, f) => f != fold).SelectMany(p => p).ToArray();
        var rng = Xoshiro256.Create(o.Seed, 1 + (ulong)fold);
        int batchSize = Math.Min(o.BatchSize, train.Length);
        var net = new MlpClassifier(dim, o.HiddenUnitsPerDimension * dim, batchSize, ref rng);
        float lr = (float)o.LearningRate, alpha = (float)o.L2Penalty;

        // scikit-learn's stochastic solver loop (MLPClassifier._fit_stochastic): shuffle every epoch,
        // average the batch losses weighted by batch size, and stop after more than n_iter_no_change
        // epochs whose loss is not below best − tol.
        double best = double.PositiveInfinity, loss = double.NaN;
        int stale = 0, epoch = 0;
        while (epoch < o.MaxEpochs)
        {
            epoch++;
            Shuffle(train, ref rng);
            double sum = 0;
            for (int start = 0; start < train.Length; start += batchSize)
            {
                int count = Math.Min(batchSize, train.Length - start);
                sum += net.TrainBatch(data, labels, train.AsSpan(start, count), lr, alpha) * count;
            }
            loss = sum / train.Length;
            if (loss > best - o.Tolerance) stale++;
            else stale = 0;
            if (loss < best) best = loss;
            if (stale > o.NoImprovementEpochs) break;
        }

        int correct = 0;
        for (int start = 0; start < test.Length; start += batchSize)
            correct += net.CountCorrect(data, labels, test.AsSpan(start, Math.Min(batchSize, test.Length - start)));
        return new FoldResult((double)correct / test.Length, epoch, loss);
    }
}
