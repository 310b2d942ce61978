using OnnxSbi.Runtime;
using OnnxSbi.Simulations.Files;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Training;

/// <summary>
/// Offline training from simulations on disk: epochs over a <see cref="SimulationShuffle"/>, each batch read from its
/// shuffled window (the next window is read in the background) and adapted to network rows. Batch b of epoch e is the
/// training rows [b·B, (b+1)·B) of that epoch's order, so it depends only on (seed, epoch, b) and a resumed run sees
/// the same batches; the last partial batch of an epoch is dropped, as <see cref="OfflineSource"/> does.
/// </summary>
public sealed class FileSource : TrainingSource
{
    private readonly SimulationShuffle data;
    private readonly Func<ArrayBatch, NetworkData> adapt;

    /// <summary>Trains on <paramref name="data"/> (which the caller disposes), adapting each raw batch with <paramref name="adapt"/>.</summary>
    public FileSource(SimulationShuffle data, Func<ArrayBatch, NetworkData> adapt)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(adapt);
        this.data = data;
        this.adapt = adapt;
    }

    /// <inheritdoc />
    public override string Mode => "offline";

    /// <inheritdoc />
    public override int BatchesPerEpoch(TrainingOptions options) => (int)Math.Clamp(data.TrainingRows / options.BatchSize, 1, int.MaxValue);

    /// <inheritdoc />
    public override long SimulationsPerEpoch(TrainingOptions options) => data.TrainingRows;

    /// <inheritdoc />
    public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options)
    {
        var rows = adapt(data.ReadTraining(epoch, (long)batch * options.BatchSize, options.BatchSize));
        return (tensor(rows.Theta, [rows.Rows, rows.InferenceDim]), tensor(rows.Conditions, [rows.Rows, rows.ConditionDim]));
    }
}
