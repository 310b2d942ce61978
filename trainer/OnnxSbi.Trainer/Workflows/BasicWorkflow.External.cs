using OnnxSbi.Simulations.External;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Workflows;

public sealed partial class BasicWorkflow
{
    /// <summary>
    /// Trains on fresh simulations from an external simulator process (docs/simulator-protocol.md), as
    /// <see cref="FitOnline(Func{int, ulong, Runtime.ArrayBatch}, Runtime.ArrayBatch?, TrainingOptions, int, ITrainingObserver?, CancellationToken)"/>
    /// does with a function: batch b of epoch e is simulated with the seed an online run uses for (e, b), so a run, and a
    /// resumed one, is exactly reproducible when the simulator honours its seeds, whatever the number of workers. While
    /// the network trains on one batch the simulator's <see cref="ExternalSimulatorOptions.Workers"/> children simulate
    /// the next ones.
    /// </summary>
    /// <param name="simulator">The external simulator; the caller keeps ownership and disposes it.</param>
    /// <param name="validationSets">Held-out rows simulated once (seed <c>options.Seed ^ 0xA5A5A5A5</c>, as the in-process online fit uses) and scored after every epoch; 0 for none.</param>
    /// <param name="options">Optimization settings; <see cref="TrainingOptions.BatchesPerEpoch"/> sets the epoch length.</param>
    /// <param name="fitSimulations">Rows of the first request (seed <c>options.Seed</c>), on which the adapter is fitted if it is not yet.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training and the requests in flight; their children are stopped.</param>
    /// <exception cref="ArgumentException"><see cref="TrainingOptions.SkipNonFiniteRows"/> is set but the simulator refuses non-finite values (<see cref="ExternalSimulatorOptions.RejectNonFinite"/>), so no row would ever be skipped.</exception>
    /// <exception cref="ExternalSimulatorException">The simulator failed a request beyond its retries, or answered with an unusable batch.</exception>
    public TrainingHistory FitOnline(ExternalSimulator simulator, int validationSets, TrainingOptions options, int fitSimulations = 4096, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(validationSets);
        if (options.SkipNonFiniteRows && simulator.Options.RejectNonFinite)
            throw new ArgumentException("The training options skip rows with non-finite values (SkipNonFiniteRows, --skip-bad-rows), but the external simulator " +
                "refuses such responses (ExternalSimulatorOptions.RejectNonFinite); create it with RejectNonFinite = false so the trainer can skip and count them.");
        var first = validationSets > 0
            ? simulator.SimulateMany([(fitSimulations, options.Seed), (validationSets, options.Seed ^ 0xA5A5A5A5UL)], cancellationToken)
            : [simulator.Simulate(fitSimulations, options.Seed, cancellationToken)];
        Prepare(first[0]);
        var validation = validationSets > 0 ? ValidationRows(first[1]) : null;
        using var source = new PrefetchingOnlineSource(simulator.SimulateAsync, ToNetwork, simulator.Options.Workers, cancellationToken);
        var mode = new { Mode = "online", Simulator = new { simulator.Options.Command, simulator.Options.Workers }, ValidationSets = validationSets };
        return Train(source, validation, options, mode, observer, cancellationToken);
    }
}
