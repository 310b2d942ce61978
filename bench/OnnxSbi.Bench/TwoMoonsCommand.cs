using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>two-moons</c>: the BayesFlow tutorial end to end — simulate, train the four seed networks,
/// export, sample through the runtime at x = (0, 0), score against exact draws, plot, summarize.
/// </summary>
internal static class TwoMoonsCommand
{
    private static readonly SbiTask Task = TaskCatalog.Get(TwoMoonsTask.TaskName);

    /// <summary>One model's row of the summary table.</summary>
    internal sealed record ModelSummary(
        string Network, string Title, string Bundle, double TrainSeconds, long OptimizerSteps, double FinalLoss, double FinalValLoss,
        double C2stOrigin, double C2stMean10, double[] C2stPerObservation, double DrawsPerSecond, double MillisecondsFor3000,
        double CalibrationError, bool SbcBandHolds);

    public static Command Create()
    {
        var outDir = BenchCli.Option<string>("--out-dir", "Directory for the bundles (when training), checkpoints, figures, diagnostics and summary.", () => Path.Combine("out", "two_moons"));
        var quick = BenchCli.Option<bool>("--quick", "Train at a reduced budget (128 batches per epoch, a sixth of the epochs but at least 3, 1,000 reference draws): same pipeline, same architectures.");
        var fromModels = BenchCli.Option<string?>("--from-models", "Train nothing: evaluate the four bundles in this directory (e.g. models/two_moons).");
        var evaluate = BenchCli.Option<bool>("--evaluate", "With --from-models: score the bundles as a training run does (10 observations, SBC) and record the metrics in them.");
        var seed = BenchCli.Option<ulong>("--seed", "Seed of simulation, training and sampling.", () => 1);
        var threads = BenchCli.Option<int?>("--threads", "TorchSharp training threads and ONNX Runtime intra-op threads; default: 1 for training, the runtime's measured default for sampling.");
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int t && (t < 1 || t > 1024)) r.AddError($"--threads must be an integer in [1, 1024]; got {t}.");
        });
        var command = new Command("two-moons", "The BayesFlow two-moons tutorial end to end: simulate, train the four seed networks (or load them), sample through the runtime, score C2ST and SBC, plot, summarize. A killed training run resumes from its checkpoints when run again.")
        {
            outDir, quick, fromModels, evaluate, seed, threads,
        };
        command.SetAction((p, ct) =>
        {
            using var loggerFactory = LoggerFactory.Create(b =>
            {
                b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
                b.SetMinimumLevel(LogLevel.Information);
            });
            var logger = loggerFactory.CreateLogger("onnxsbi-bench");
            try
            {
                return System.Threading.Tasks.Task.FromResult(Run(p.GetValue(outDir)!, p.GetValue(quick), p.GetValue(fromModels), p.GetValue(evaluate), p.GetValue(seed),
                    p.GetValue(threads), logger, ct));
            }
            catch (OperationCanceledException)
            {
                logger.LogWarning("Stopped by a signal; the checkpoint of the last completed epoch is kept. Run the same command again to continue.");
                throw;
            }
        });
        return command;
    }

    private static int Run(string outDirOption, bool quick, string? fromModels, bool evaluate, ulong seed, int? threadsGiven, ILogger logger, CancellationToken ct)
    {
        string outDir = Path.GetFullPath(outDirOption);
        if (evaluate && fromModels is null) throw new UsageException("--evaluate scores the bundles given by --from-models; training runs evaluate anyway.");
        int threads = threadsGiven ?? 1;
        if (quick && fromModels is not null) throw new UsageException("--quick trains at a reduced budget; --from-models trains nothing. Choose one.");
        Directory.CreateDirectory(outDir);
        var total = Stopwatch.StartNew();

        // The seed's budget, or a reduced one for --quick (same pipeline, same architectures).
        int batches = quick ? 128 : Task.SeedBudget.Batches;
        int referenceDraws = quick ? 1_000 : 10_000;
        var bundles = new List<(NetworkRecipe Recipe, string Path)>();
        foreach (var recipe in NetworkCatalog.All)
        {
            ct.ThrowIfCancellationRequested();
            string bundle = Path.Combine(fromModels ?? outDir, recipe.Name + ".onnxsbi");
            if (fromModels is null)
            {
                int epochs = quick ? Math.Max(3, recipe.SeedEpochs / 6) : recipe.SeedEpochs;
                Train(recipe, bundle, batches, epochs, seed, threads, outDir, logger, ct);
            }
            else if (!File.Exists(bundle))
            {
                throw new UsageException($"--from-models: '{bundle}' does not exist. Expected {string.Join(", ", NetworkCatalog.All.Select(r => r.Name + ".onnxsbi"))}.");
            }
            bundles.Add((recipe, bundle));
        }

        // Everything below runs through the runtime package, as a deployed application would. With
        // --from-models only x = (0, 0) is scored (3,000 draws against 3,000 exact ones) so that the
        // command finishes in seconds; the mean over 10 observations is read from the bundle's record.
        // --evaluate scores given bundles as a training run does and records the metrics in them.
        bool full = fromModels is null || evaluate;
        int scoringDraws = full ? referenceDraws : 3000;
        logger.LogInformation("Scoring with {N} exact reference draws per observation", scoringDraws);
        double[] observations = Task.ScoringObservations(full ? Task.NumTestObservations : 0);

        // --threads, when given, also sets ONNX Runtime's intra-op threads; otherwise the runtime's measured
        // defaults apply, as in a deployed application.
        var runtime = new RuntimeOptions { IntraOpThreads = threadsGiven ?? 0 };
        var summaries = new List<ModelSummary>();
        var scatter = new List<(string Title, double[] Theta)>();
        foreach (var (recipe, bundle) in bundles)
        {
            ct.ThrowIfCancellationRequested();
            using var model = PosteriorModel.Load(bundle, runtime);
            var origin = Task.ObservationBatch(Task.PrimaryObservation());
            var options = new SamplingOptions { Seed = seed };
            long firstStart = Stopwatch.GetTimestamp();
            var draws3000 = model.Sample(origin, 3000, options, ct);
            double firstMs = Stopwatch.GetElapsedTime(firstStart).TotalMilliseconds;
            // The figure's call is the warm-up; the timed repeats fit a few seconds per model (at least one).
            int repeats = Math.Clamp((int)((full ? 10_000 : 2_000) / Math.Max(firstMs, 1e-3)), 1, full ? 7 : 5);
            double ms = MedianMilliseconds(() => model.Sample(origin, 3000, options, ct), repeats);
            scatter.Add((recipe.Title, draws3000[Task.ParameterName]));

            // Without a full evaluation the 3,000 figure draws are scored directly.
            var conditions = Task.ObservationBatch(observations);
            double[] theta = full ? model.Sample(conditions, scoringDraws, options with { Seed = seed + 1 }, ct)[Task.ParameterName] : draws3000[Task.ParameterName];
            double[] scores = TaskScoring.ScoreAtObservations(Task, observations, theta, scoringDraws);
            double mean10 = full ? scores.Skip(1).Average()
                : model.Description.Metrics.TryGetValue("c2st_mean_10_observations", out double recorded) ? recorded : double.NaN;

            // Simulation-based calibration through the runtime: one batched call. Without a
            // full evaluation the recorded results are reported, so the main job stays fast.
            double calibrationError;
            bool bandHolds;
            if (full)
            {
                var diagnostics = PosteriorDiagnostics.Run(model, Task.CreateSimulator(seed + 2), new DiagnosticsOptions
                {
                    NumDatasets = quick ? 100 : 1000,
                    NumDraws = quick ? 100 : 500,
                    Seed = seed + 3,
                }, ct);
                DiagnosticsFiles.WriteAll(diagnostics, model, $"task {Task.Name}", Path.Combine(outDir, "diagnostics", recipe.Name));
                calibrationError = diagnostics.Parameters.Max(p => p.CalibrationError);
                bandHolds = diagnostics.AllWithinBand;
            }
            else
            {
                calibrationError = model.Description.Metrics.TryGetValue("sbc_calibration_error_max", out double ce) ? ce : double.NaN;
                bandHolds = model.Description.Metrics.TryGetValue("sbc_band_holds", out double bh) && bh > 0.5;
            }

            var training = model.Description.Training ?? throw new InvalidOperationException($"Bundle '{bundle}' has no training record.");
            var summary = new ModelSummary(recipe.Name, recipe.Title, bundle, training.Seconds, training.OptimizerSteps,
                training.Loss.Count > 0 ? training.Loss[^1] : double.NaN, training.ValidationLoss.Count > 0 ? training.ValidationLoss[^1] : double.NaN,
                scores[0], mean10, scores.Skip(1).ToArray(), 3000 / (ms / 1000), ms,
                calibrationError, bandHolds);
            summaries.Add(summary);
            logger.LogInformation("{Title}: C2ST at x=(0,0) {C2st:F3}, mean over 10 observations {Mean:F3}, 3000 draws in {Ms:F1} ms, calibration error {Cal:F3}, SBC band {Band}",
                recipe.Title, summary.C2stOrigin, summary.C2stMean10, ms, calibrationError, bandHolds ? "holds" : "violated");
            if (full) RecordMetrics(bundle, summary);
            TutorialPlots.LossCurves(Path.Combine(outDir, $"loss_{recipe.Name}.png"), recipe.Title, training.Loss, training.ValidationLoss);
        }

        string figure = Path.Combine(outDir, "two_moons_posteriors.png");
        TutorialPlots.TutorialFigure(figure, scatter);
        string table = SummaryTable(summaries, scoringDraws);
        Console.WriteLine(table);
        AtomicFile.WriteAllText(Path.Combine(outDir, "summary.md"), table);
        AtomicFile.WriteAllText(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(summaries, new JsonSerializerOptions { WriteIndented = true }));
        logger.LogInformation("Wrote {Figure}, loss curves and summary to {Dir} in {Seconds:F0} s", figure, outDir, total.Elapsed.TotalSeconds);
        return ExitCodes.Success;
    }

    private static void Train(NetworkRecipe recipe, string bundle, int batches, int epochs, ulong seed, int threads, string outDir, ILogger logger, CancellationToken ct)
    {
        var options = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = Task.SeedBudget.BatchSize,
            Seed = seed,
            Threads = threads,
            // Keyed by the budget and seed: a --quick run and a full run in one --out-dir never resume each other.
            CheckpointPath = Path.Combine(outDir, "checkpoints", $"{recipe.Name}.b{batches}.e{epochs}.s{seed}.ckpt"),
            Resume = true,
        };
        var overrides = new NetworkOverrides(TotalSteps: (long)batches * epochs);
        using var workflow = new BasicWorkflow(Task.CreateSimulator(seed), Task.CreateAdapter(),
            Task.InferenceVariables, Task.ConditionVariables, (d, c) => recipe.Build(d, c, overrides));
        logger.LogInformation("Training {Title}: {Epochs} epochs × {Batches} batches of {BatchSize}", recipe.Title, epochs, batches, options.BatchSize);
        if (File.Exists(options.CheckpointPath))
            logger.LogInformation("Resuming {Title} from {Checkpoint} (delete it to start over)", recipe.Title, options.CheckpointPath);
        var history = workflow.FitOffline(batches * options.BatchSize, Task.SeedBudget.ValidationSets, options, new ConsoleProgress(logger, recipe.Name), ct);
        workflow.Export(bundle, $"{recipe.Title} on two moons", new Dictionary<string, double>
        {
            ["final_loss"] = history.Loss[^1],
            ["final_val_loss"] = history.ValidationLoss[^1],
            ["train_seconds"] = history.Seconds,
        });
    }

    /// <summary>Adds the evaluation to the bundle's metrics and model card, rewriting it atomically.</summary>
    private static void RecordMetrics(string bundle, ModelSummary s)
    {
        var contents = BundleReader.Read(bundle);
        var manifest = contents.Manifest.Clone();
        manifest.Metrics["c2st_x00"] = s.C2stOrigin;
        manifest.Metrics["c2st_mean_10_observations"] = s.C2stMean10;
        manifest.Metrics["draws_per_second_3000_x00"] = s.DrawsPerSecond;
        manifest.Metrics["sbc_calibration_error_max"] = s.CalibrationError;
        manifest.Metrics["sbc_band_holds"] = s.SbcBandHolds ? 1 : 0;
        var graphs = contents.Graphs.ToDictionary(g => g.Key, g => ModelProto.Parser.ParseFrom(g.Value));
        string card = contents.ModelCard + string.Create(CultureInfo.InvariantCulture,
            $"\n## Evaluation (two-moons command)\n- C2ST at x=(0,0): {s.C2stOrigin:F3}\n- Mean C2ST over 10 fixed observations: {s.C2stMean10:F3}\n- 3,000 draws at x=(0,0): {s.MillisecondsFor3000:F1} ms ({s.DrawsPerSecond:F0} draws/s)\n- SBC: largest calibration error {s.CalibrationError:F3}; simultaneous ECDF band {(s.SbcBandHolds ? "holds" : "violated")}\n");
        BundleWriter.Write(bundle, manifest, graphs, card);
    }

    private static double MedianMilliseconds(Action action, int repeats)
    {
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return BenchStats.Median(times);
    }

    private static string SummaryTable(List<ModelSummary> rows, int referenceDraws)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"| model | training time | steps | final loss | final val loss | C2ST x=(0,0) | mean C2ST (10 obs) | 3,000 draws | draws/s | calibration error | SBC band |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(inv, $"| {r.Title} | {r.TrainSeconds:F0} s | {r.OptimizerSteps} | {r.FinalLoss:F4} | {r.FinalValLoss:F4} | {r.C2stOrigin:F3} | {r.C2stMean10:F3} | {r.MillisecondsFor3000:F1} ms | {r.DrawsPerSecond:F0} | {r.CalibrationError:F3} | {(r.SbcBandHolds ? "holds" : "violated")} |"));
        sb.AppendLine().AppendLine(string.Create(inv, $"C2ST: sbibm's classifier two-sample test, {referenceDraws} model draws against {referenceDraws} exact rejection draws per observation (0.5 = indistinguishable)."));
        sb.AppendLine("Calibration error: the largest over θ1, θ2 of BayesFlow's median |coverage − α|; SBC band: the Säilynoja–Bürkner–Vehtari 95% simultaneous ECDF band.");
        return sb.ToString();
    }
}
