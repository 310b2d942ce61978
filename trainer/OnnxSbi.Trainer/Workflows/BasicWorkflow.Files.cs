using OnnxSbi.Runtime;
using OnnxSbi.Simulations.Files;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Workflows;

public sealed partial class BasicWorkflow
{
    /// <summary>The default number of rows the adapter is fitted on in <see cref="FitFiles"/>.</summary>
    public const int DefaultAdapterFitRows = 100_000;

    /// <summary>
    /// Trains offline on simulations stored in files, streaming them window by window with bounded memory (see
    /// <see cref="SimulationShuffle"/>): the adapter is fitted (if it is not yet) on the first
    /// <paramref name="adapterFitRows"/> rows of epoch 0's shuffled order, which are randomly chosen chunks with their
    /// rows permuted; the network is built for the adapted widths and trained for the options' epochs of
    /// ⌊training rows / batch size⌋ batches.
    /// </summary>
    /// <param name="train">The training data set, holding every inference and condition variable.</param>
    /// <param name="validation">Separate validation files (loaded into memory, at most <see cref="SimulationFileOptions.MaxValidationRows"/> rows), or null.</param>
    /// <param name="validationFraction">Share of <paramref name="train"/>'s rows held out for validation instead (0 for none); not combined with <paramref name="validation"/>.</param>
    /// <param name="options">Optimization settings; the seed fixes the shuffle and the held-out rows.</param>
    /// <param name="adapterFitRows">Rows the adapter is fitted on (default <see cref="DefaultAdapterFitRows"/>; fewer when the data set is smaller).</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    /// <exception cref="Simulations.Formats.DataFileException">A file is missing a variable, ragged, non-numeric or truncated.</exception>
    public TrainingHistory FitFiles(SimulationFiles train, SimulationFiles? validation, double validationFraction, TrainingOptions options,
        int adapterFitRows = DefaultAdapterFitRows, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (validation is not null && validationFraction > 0)
            throw new ArgumentException("Pass either separate validation files or a validation fraction, not both.", nameof(validationFraction));
        if (adapterFitRows <= 0) throw new ArgumentOutOfRangeException(nameof(adapterFitRows), adapterFitRows, "The adapter needs at least one row to be fitted on.");
        using var data = new SimulationShuffle(train, options.Seed, validationFraction);
        if (data.TrainingRows < options.BatchSize)
            throw new ArgumentException($"The training data has {data.TrainingRows} rows ({string.Join(", ", train.Shards)}); it must have at least the batch size ({options.BatchSize}).");
        Prepare(data.ReadTraining(0, 0, (int)Math.Min(adapterFitRows, data.TrainingRows)));
        ArrayBatch? held = validation is not null ? ReadAll(validation, train) : data.ValidationRows > 0 ? data.ReadValidation() : null;
        var source = new FileSource(data, ToNetwork);
        var mode = new { Mode = "offline", Data = "files", Shards = train.Shards.Count, NumSimulations = data.TrainingRows, ValidationSets = held?.Rows ?? 0, ValidationFraction = validationFraction };
        return Train(source, held is null ? null : ValidationRows(held), options, mode, observer, cancellationToken);
    }

    private static ArrayBatch ReadAll(SimulationFiles files, SimulationFiles train)
    {
        foreach (string v in train.Variables)
        {
            if (!files.Variables.Contains(v))
                throw new UnknownVariableException(v, files.Variables, $"variable of the validation files ({string.Join(", ", files.Shards)})");
            if (!files.SampleShape(v).SequenceEqual(train.SampleShape(v)))
                throw new Simulations.Formats.DataFileException(files.Shards[0], $"variable '{v}' has per-row shape [{string.Join(", ", files.SampleShape(v))}] in the validation files; the training files ({train.Shards[0]}, …) have [{string.Join(", ", train.SampleShape(v))}].");
        }
        if (files.Rows > files.Options.MaxValidationRows)
            throw new ArgumentException($"The validation data ({string.Join(", ", files.Shards)}) has {files.Rows} rows, more than the {files.Options.MaxValidationRows} kept in memory (SimulationFileOptions.MaxValidationRows).");
        return files.Read(0, (int)files.Rows);
    }
}
