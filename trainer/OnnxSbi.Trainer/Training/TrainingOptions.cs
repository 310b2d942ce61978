namespace OnnxSbi.Trainer.Training;

/// <summary>
/// Optimization settings. Defaults are BayesFlow's (docs/algorithms.md#training-schedule): learning rate 5e−4 with a
/// linear warmup over 5% of all steps from 0.1·lr, then cosine decay to 0; AdamW (weight decay 5e−3)
/// offline, Adam online; gradient-norm clipping at 1.5.
/// </summary>
/// <example>
/// <code>
/// var options = new TrainingOptions { Epochs = 30, BatchSize = 64, Seed = 7 };   // everything else BayesFlow's
/// workflow.FitOffline(numSimulations: 16_384, validationSets: 512, options);
/// </code>
/// </example>
public sealed record TrainingOptions
{
    /// <summary>Passes over the data (offline) or groups of <see cref="BatchesPerEpoch"/> batches (online).</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Rows per optimizer step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Batches per epoch in online mode; offline, the data's size decides.</summary>
    public int BatchesPerEpoch { get; init; } = 512;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 5e-4;

    /// <summary>Fraction of all steps spent in the linear warmup.</summary>
    public double WarmupFraction { get; init; } = 0.05;

    /// <summary>Decoupled weight decay (AdamW). Null means BayesFlow's choice: 5e−3 offline, 0 (Adam) online.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Global gradient-norm clip.</summary>
    public double ClipNorm { get; init; } = 1.5;

    /// <summary>Seed of every random choice in training.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where to write the checkpoint after every epoch; null disables checkpoints.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Also write the checkpoint every this many batches inside an epoch (0: only at the end of each epoch), so that a
    /// killed run over a long epoch (a large data set) loses at most this many batches and resumes exactly mid-epoch.
    /// </summary>
    public int CheckpointEveryBatches { get; init; }

    /// <summary>
    /// Early stopping, as sbi's NPE trains: stop after this many epochs without a new lowest validation loss, and end
    /// with the weights of the lowest one (0: off, every epoch is trained and the last weights are kept). Needs
    /// validation data. Meant for offline training on a fixed simulation budget, where the network can overfit; a
    /// consistency model's validation loss moves with its discretization schedule and is no guide.
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists.</summary>
    public bool Resume { get; init; }

    /// <summary>Skip batch rows with non-finite values (counted and reported) instead of failing.</summary>
    public bool SkipNonFiniteRows { get; init; }

    /// <summary>Stop with an error when the loss exceeds this value or is not finite.</summary>
    public double DivergenceThreshold { get; init; } = 1e6;

    /// <summary>
    /// libtorch intra-op threads during training. One by default: for the small MLPs of amortized
    /// inference, batch 64, a second OpenMP thread gains little on an idle machine and is many times
    /// slower on a busy one, where its workers spin waiting for each other (docs/training.md, "What the
    /// defaults are").
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible value.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentException($"Epochs must be positive; got {Epochs}.");
        if (BatchSize <= 0) throw new ArgumentException($"BatchSize must be positive; got {BatchSize}.");
        if (BatchesPerEpoch <= 0) throw new ArgumentException($"BatchesPerEpoch must be positive; got {BatchesPerEpoch}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"LearningRate must be positive and finite; got {LearningRate}.");
        if (WarmupFraction is < 0 or >= 1) throw new ArgumentException($"WarmupFraction must be in [0, 1); got {WarmupFraction}.");
        if (WeightDecay is < 0) throw new ArgumentException($"WeightDecay must not be negative; got {WeightDecay}.");
        if (!(ClipNorm > 0)) throw new ArgumentException($"ClipNorm must be positive; got {ClipNorm}.");
        if (EarlyStoppingPatience < 0) throw new ArgumentException($"EarlyStoppingPatience must not be negative; got {EarlyStoppingPatience}.");
        if (CheckpointEveryBatches < 0) throw new ArgumentException($"CheckpointEveryBatches must not be negative; got {CheckpointEveryBatches}.");
        if (Threads <= 0) throw new ArgumentException($"Threads must be positive; got {Threads}.");
        if (Resume && CheckpointPath is null) throw new ArgumentException("Resume needs a CheckpointPath.");
    }
}

/// <summary>BayesFlow's learning-rate schedule: linear warmup from 0.1·lr, then cosine decay to zero.</summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate at optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double At(long step, long totalSteps, double peak, double warmupFraction)
    {
        long warmup = (long)Math.Floor(warmupFraction * totalSteps);
        if (step < warmup) return peak * (0.1 + 0.9 * step / warmup);
        long decaySteps = Math.Max(1, totalSteps - warmup);
        double progress = Math.Min(1.0, (double)(step - warmup) / decaySteps);
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
