using OnnxSbi.Runtime;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Training;

/// <summary>Network-side training rows: θ [rows, D] and conditions [rows, C], float32 row-major.</summary>
public sealed class NetworkData
{
    /// <summary>Wraps the arrays, checking their sizes.</summary>
    public NetworkData(float[] theta, int inferenceDim, float[] conditions, int conditionDim)
    {
        if (inferenceDim <= 0 || theta.Length % inferenceDim != 0)
            throw new ShapeMismatchException("inference_variables", $"[rows, {inferenceDim}]", $"{theta.Length} values");
        Rows = theta.Length / inferenceDim;
        if (conditions.Length != (long)Rows * conditionDim)
            throw new ShapeMismatchException("inference_conditions", $"[{Rows}, {conditionDim}]", $"{conditions.Length} values");
        Theta = theta;
        Conditions = conditions;
        InferenceDim = inferenceDim;
        ConditionDim = conditionDim;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>θ values, row-major.</summary>
    public float[] Theta { get; }

    /// <summary>Condition values, row-major.</summary>
    public float[] Conditions { get; }

    /// <summary>D.</summary>
    public int InferenceDim { get; }

    /// <summary>C.</summary>
    public int ConditionDim { get; }
}

/// <summary>Where training batches come from: a fixed simulated set (offline) or fresh simulations (online).</summary>
public abstract class TrainingSource
{
    /// <summary>"offline" or "online".</summary>
    public abstract string Mode { get; }

    /// <summary>Batches in one epoch for the given batch size.</summary>
    public abstract int BatchesPerEpoch(TrainingOptions options);

    /// <summary>Total simulations seen in one epoch (for the record).</summary>
    public abstract long SimulationsPerEpoch(TrainingOptions options);

    /// <summary>
    /// The batch <paramref name="batch"/> of epoch <paramref name="epoch"/>, as tensors [B, D] and [B, C].
    /// Deterministic in (seed, epoch, batch), so a resumed run sees the same batches.
    /// </summary>
    public abstract (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options);
}

/// <summary>Offline training: epochs over a pre-simulated set, reshuffled each epoch with a seeded permutation.</summary>
public sealed class OfflineSource : TrainingSource, IDisposable
{
    private readonly Tensor theta;
    private readonly Tensor conditions;
    private int permutationEpoch = -1;
    private Tensor? permutation;

    /// <summary>Uses <paramref name="data"/> as the training set.</summary>
    public OfflineSource(NetworkData data)
    {
        Data = data;
        theta = tensor(data.Theta, [data.Rows, data.InferenceDim]);
        conditions = tensor(data.Conditions, [data.Rows, data.ConditionDim]);
    }

    /// <summary>The training rows.</summary>
    public NetworkData Data { get; }

    /// <inheritdoc />
    public override string Mode => "offline";

    /// <inheritdoc />
    public override int BatchesPerEpoch(TrainingOptions options) => Math.Max(1, Data.Rows / options.BatchSize);

    /// <inheritdoc />
    public override long SimulationsPerEpoch(TrainingOptions options) => Data.Rows;

    /// <summary>Releases the native tensors holding the data.</summary>
    public void Dispose()
    {
        permutation?.Dispose();
        theta.Dispose();
        conditions.Dispose();
    }

    /// <inheritdoc />
    public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options)
    {
        if (permutationEpoch != epoch)
        {
            permutation?.Dispose();
            using var g = new Generator(unchecked(options.Seed * 0x9E3779B97F4A7C15UL + (ulong)epoch));
            // Kept across batches: detach it from the per-batch dispose scope it is created in.
            permutation = randperm(Data.Rows, generator: g).DetachFromDisposeScope();
            permutationEpoch = epoch;
        }
        using var idx = permutation!.narrow(0, (long)batch * options.BatchSize, options.BatchSize);
        return (theta.index_select(0, idx), conditions.index_select(0, idx));
    }
}

/// <summary>Online training: every batch is freshly simulated.</summary>
public sealed class OnlineSource : TrainingSource
{
    private readonly Func<int, ulong, NetworkData> simulate;

    /// <summary>
    /// <paramref name="simulate"/>(rows, seed) simulates and adapts <c>rows</c> fresh rows
    /// deterministically from <c>seed</c>.
    /// </summary>
    public OnlineSource(Func<int, ulong, NetworkData> simulate) => this.simulate = simulate;

    /// <inheritdoc />
    public override string Mode => "online";

    /// <inheritdoc />
    public override int BatchesPerEpoch(TrainingOptions options) => options.BatchesPerEpoch;

    /// <inheritdoc />
    public override long SimulationsPerEpoch(TrainingOptions options) => (long)options.BatchesPerEpoch * options.BatchSize;

    /// <inheritdoc />
    public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options)
    {
        var data = simulate(options.BatchSize, BatchSeed(options.Seed, epoch, batch));
        return (tensor(data.Theta, [data.Rows, data.InferenceDim]), tensor(data.Conditions, [data.Rows, data.ConditionDim]));
    }

    /// <summary>
    /// The simulation seed of batch <paramref name="batch"/> of epoch <paramref name="epoch"/> in a run seeded with
    /// <paramref name="seed"/>: a function of the three alone, so a resumed or prefetching run asks for the same batches.
    /// </summary>
    internal static ulong BatchSeed(ulong seed, int epoch, int batch)
        => seed ^ (0xD1B54A32D192ED03UL * (ulong)(epoch + 1)) ^ (0x8CB92BA72F3D8DD7UL * (ulong)(batch + 1));
}
