using System.Diagnostics;
using OnnxSbi.Runtime;
using OnnxSbi.Trainer.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Training;

/// <summary>What one epoch produced, reported to progress observers.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Loss">Mean training loss over the epoch.</param>
/// <param name="ValidationLoss">Loss on the held-out set, or NaN when there is none.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="Elapsed">Wall time since training (or the resumed run) started.</param>
public sealed record EpochReport(int Epoch, int Epochs, double Loss, double ValidationLoss, double LearningRate, TimeSpan Elapsed);

/// <summary>Receives progress from <see cref="NetworkTrainer.Fit"/>.</summary>
public interface ITrainingObserver
{
    /// <summary>Called every few batches with the running mean loss of the epoch.</summary>
    void OnBatch(int epoch, int epochs, int batch, int batches, double runningLoss, double learningRate, TimeSpan elapsed);

    /// <summary>Called once per finished epoch.</summary>
    void OnEpoch(EpochReport report);
}

/// <summary>The outcome of training.</summary>
public sealed class TrainingHistory
{
    /// <summary>Mean training loss per epoch.</summary>
    public List<double> Loss { get; init; } = [];

    /// <summary>Validation loss per epoch (NaN without validation data).</summary>
    public List<double> ValidationLoss { get; init; } = [];

    /// <summary>Optimizer steps taken in total, across resumes.</summary>
    public long OptimizerSteps { get; set; }

    /// <summary>Epochs completed.</summary>
    public int EpochsCompleted { get; set; }

    /// <summary>Training wall time in seconds, summed across resumes.</summary>
    public double Seconds { get; set; }

    /// <summary>Rows skipped because they held non-finite values.</summary>
    public long SkippedRows { get; set; }

    /// <summary>"offline" or "online".</summary>
    public string Mode { get; set; } = "";

    /// <summary>Simulations the network saw per epoch.</summary>
    public long SimulationsPerEpoch { get; set; }

    /// <summary>
    /// Batches of epoch <see cref="EpochsCompleted"/> + 1 already trained on when the checkpoint was written mid-epoch;
    /// 0 at an epoch boundary.
    /// </summary>
    public int BatchesIntoEpoch { get; set; }

    /// <summary>The sum of the losses of those batches, so the epoch's mean loss comes out as if uninterrupted.</summary>
    public double EpochLossSum { get; set; }

    /// <summary>How many of those batches had rows left to train on (the mean's denominator).</summary>
    public int EpochBatchesCounted { get; set; }

    /// <summary>With early stopping: the 1-based epoch of the lowest validation loss so far (0 before the first), whose weights the network ends with.</summary>
    public int BestEpoch { get; set; }

    /// <summary>With early stopping: the lowest validation loss so far (meaningful when <see cref="BestEpoch"/> &gt; 0).</summary>
    public double BestValidationLoss { get; set; }

    /// <summary>True when early stopping ended training before the planned epochs.</summary>
    public bool StoppedEarly { get; set; }
}

/// <summary>Raised when the loss diverges or data hold non-finite values; names the epoch and batch.</summary>
public sealed class TrainingDivergedException : OnnxSbiException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message) : base(message) { }
}

/// <summary>
/// Fits a <see cref="PosteriorNetwork"/> with AdamW (Adam online), gradient-norm clipping and
/// BayesFlow's warmup-cosine schedule. Every random choice comes from one seeded generator whose
/// state is checkpointed with the model and optimizer after every epoch (and, with
/// <see cref="TrainingOptions.CheckpointEveryBatches"/>, every that many batches inside one), and every
/// source's batch is a function of (seed, epoch, batch), so a killed run resumed from its checkpoint takes
/// exactly the steps an uninterrupted run would.
/// </summary>
public static class NetworkTrainer
{
    /// <summary>Trains <paramref name="network"/> in place and returns its history.</summary>
    /// <param name="network">The network; its parameters are updated.</param>
    /// <param name="source">Training batches.</param>
    /// <param name="validation">Held-out rows scored after every epoch, or null.</param>
    /// <param name="options">Optimization settings.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch; a checkpoint of the last full epoch is kept.</param>
    public static TrainingHistory Fit(
        PosteriorNetwork network,
        TrainingSource source,
        NetworkData? validation,
        TrainingOptions options,
        ITrainingObserver? observer = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        torch.set_num_threads(options.Threads);
        int batches = source.BatchesPerEpoch(options);
        long totalSteps = (long)batches * options.Epochs;
        double weightDecay = options.WeightDecay ?? (source.Mode == "online" ? 0.0 : 5e-3);
        var parameters = network.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, weight_decay: weightDecay);
        using var generator = new Generator(options.Seed);
        var history = new TrainingHistory { Mode = source.Mode, SimulationsPerEpoch = source.SimulationsPerEpoch(options) };
        if (options.EarlyStoppingPatience > 0 && validation is null)
            throw new ArgumentException("Early stopping needs validation data: pass validation rows (--validation-sets, --validation-data or --validation-fraction).");
        int startEpoch = 0;
        byte[]? best = null;
        if (options.Resume && options.CheckpointPath is not null && File.Exists(options.CheckpointPath))
        {
            (history, best) = Checkpoint.Load(options.CheckpointPath, network, optimizer, generator);
            if (history.StoppedEarly) startEpoch = options.Epochs;
            else startEpoch = history.EpochsCompleted;
            if (history.BatchesIntoEpoch > batches)
                throw new OnnxSbiException($"Checkpoint '{options.CheckpointPath}' was written {history.BatchesIntoEpoch} batches into an epoch, but an epoch now has {batches} batches: " +
                    "resume with the batch size, data and --batches-per-epoch it was written with, or delete it to start over.");
        }

        Tensor? valTheta = null, valConditions = null;
        if (validation is not null)
        {
            valTheta = tensor(validation.Theta, [validation.Rows, validation.InferenceDim]);
            valConditions = tensor(validation.Conditions, [validation.Rows, validation.ConditionDim]);
        }

        var clock = Stopwatch.StartNew();
        double secondsBefore = history.Seconds;
        try
        {
            for (int epoch = startEpoch; epoch < options.Epochs; epoch++)
            {
                network.train();
                // A checkpoint written mid-epoch resumes at its next batch with the epoch's running loss.
                int firstBatch = epoch == startEpoch ? history.BatchesIntoEpoch : 0;
                double sum = epoch == startEpoch ? history.EpochLossSum : 0;
                int counted = epoch == startEpoch ? history.EpochBatchesCounted : 0;
                double lr = 0;
                for (int b = firstBatch; b < batches; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var (theta, conditions) = source.Batch(epoch, b, options);
                    (theta, conditions) = CheckRows(theta, conditions, epoch, b, options, history);
                    if (theta.shape[0] == 0) continue;
                    lr = LearningRateSchedule.At(history.OptimizerSteps, totalSteps, options.LearningRate, options.WarmupFraction);
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                    optimizer.zero_grad();
                    var loss = network.ComputeLoss(theta, conditions, history.OptimizerSteps, generator);
                    double value = loss.item<float>();
                    if (!double.IsFinite(value) || value > options.DivergenceThreshold)
                        throw new TrainingDivergedException(
                            $"The loss diverged at epoch {epoch + 1}, batch {b + 1}: {value} (threshold {options.DivergenceThreshold}). " +
                            "Lower the learning rate, check the adapter's standardization, or check the simulator's outputs.");
                    loss.backward();
                    nn.utils.clip_grad_norm_(parameters, options.ClipNorm);
                    optimizer.step();
                    history.OptimizerSteps++;
                    sum += value;
                    counted++;
                    if (observer is not null && (b % 16 == 15 || b == batches - 1))
                        observer.OnBatch(epoch + 1, options.Epochs, b + 1, batches, sum / counted, lr, clock.Elapsed);
                    if (options.CheckpointPath is not null && options.CheckpointEveryBatches > 0 && (b + 1) % options.CheckpointEveryBatches == 0 && b + 1 < batches)
                    {
                        history.BatchesIntoEpoch = b + 1;
                        history.EpochLossSum = sum;
                        history.EpochBatchesCounted = counted;
                        history.Seconds = secondsBefore + clock.Elapsed.TotalSeconds;
                        Checkpoint.Save(options.CheckpointPath, network, optimizer, generator, history, best);
                    }
                }
                history.BatchesIntoEpoch = 0;
                history.EpochLossSum = 0;
                history.EpochBatchesCounted = 0;

                double valLoss = double.NaN;
                if (valTheta is not null)
                {
                    network.eval();
                    using var noGrad = no_grad();
                    using var scope = NewDisposeScope();
                    // A separate fixed-seed generator keeps the validation score comparable across
                    // epochs and leaves the training stream untouched.
                    using var valGenerator = new Generator(options.Seed ^ 0x5DEECE66DUL);
                    valLoss = network.ComputeLoss(valTheta, valConditions!, history.OptimizerSteps, valGenerator).item<float>();
                }

                history.Loss.Add(counted > 0 ? sum / counted : double.NaN);
                history.ValidationLoss.Add(valLoss);
                history.EpochsCompleted = epoch + 1;
                history.Seconds = secondsBefore + clock.Elapsed.TotalSeconds;
                if (options.EarlyStoppingPatience > 0)
                {
                    // sbi's rule: keep the weights of the lowest validation loss; stop after `patience` epochs without a new one.
                    if (history.BestEpoch == 0 || valLoss < history.BestValidationLoss)
                    {
                        history.BestEpoch = epoch + 1;
                        history.BestValidationLoss = valLoss;
                        best = Snapshot(network);
                    }
                    else if (epoch + 1 - history.BestEpoch >= options.EarlyStoppingPatience)
                        history.StoppedEarly = true;
                }
                if (options.CheckpointPath is not null)
                    Checkpoint.Save(options.CheckpointPath, network, optimizer, generator, history, best);
                observer?.OnEpoch(new EpochReport(epoch + 1, options.Epochs, history.Loss[^1], valLoss, lr, clock.Elapsed));
                if (history.StoppedEarly) break;
            }
        }
        finally
        {
            valTheta?.Dispose();
            valConditions?.Dispose();
        }
        if (best is not null && history.BestEpoch != history.EpochsCompleted)
            using (var reader = new BinaryReader(new MemoryStream(best))) network.load(reader);
        network.eval();
        history.Seconds = secondsBefore + clock.Elapsed.TotalSeconds;
        return history;
    }

    /// <summary>The network's parameters, serialized, to restore the best epoch's weights later.</summary>
    private static byte[] Snapshot(PosteriorNetwork network)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) network.save(writer);
        return stream.ToArray();
    }

    private static (Tensor, Tensor) CheckRows(Tensor theta, Tensor conditions, int epoch, int batch, TrainingOptions options, TrainingHistory history)
    {
        using var finite = isfinite(theta).all(1).logical_and(isfinite(conditions).all(1));
        long good = finite.sum().item<long>();
        if (good == theta.shape[0]) return (theta, conditions);
        if (!options.SkipNonFiniteRows)
        {
            long row = (~finite).nonzero()[0, 0].item<long>();
            string variable = isfinite(theta[row]).all().item<bool>() ? "inference_conditions" : "inference_variables";
            throw new TrainingDivergedException(
                $"Non-finite value in '{variable}' at epoch {epoch + 1}, batch {batch + 1}, batch row {row}. " +
                "Fix the simulator, or set SkipNonFiniteRows (--skip-bad-rows) to skip such rows.");
        }
        history.SkippedRows += theta.shape[0] - good;
        using var idx = finite.nonzero().squeeze(1);
        return (theta.index_select(0, idx), conditions.index_select(0, idx));
    }
}
