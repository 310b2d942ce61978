using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>What one benchmark run covers and how it scores.</summary>
/// <param name="Tasks">The tasks, in order.</param>
/// <param name="Networks">The network recipes, in order.</param>
/// <param name="Budgets">The simulation budgets, in order.</param>
/// <param name="Observations">The observations each task is scored at, row-major, by task name.</param>
/// <param name="Draws">Model and reference draws per observation.</param>
/// <param name="SbcDatasets">SBC datasets per cell (0: no SBC).</param>
/// <param name="SbcDraws">Posterior draws per SBC dataset.</param>
/// <param name="Seed">Seed of simulation, training and sampling.</param>
/// <param name="Threads">TorchSharp training threads.</param>
/// <param name="MaxEpochs">A cap on every recipe's epochs (the quick run), or null.</param>
/// <param name="OutDir">Where the cells, the reference cache and the results go.</param>
/// <param name="ReferenceDir">The reference cache's directory.</param>
/// <param name="Variant">Subnet widths or dropout that replace every cell's recipe (a recipe search), or null.</param>
/// <param name="TrainOnly">Train and record the validation loss only: no sampling, no reference, no C2ST, no SBC.</param>
/// <param name="ReportOnly">Run no cell: report the cells finished so far and leave the others out.</param>
internal sealed record BenchmarkPlan(
    IReadOnlyList<SbiTask> Tasks, IReadOnlyList<NetworkRecipe> Networks, IReadOnlyList<int> Budgets,
    IReadOnlyDictionary<string, double[]> Observations, int Draws, int SbcDatasets, int SbcDraws, ulong Seed, int Threads,
    int? MaxEpochs, string OutDir, string ReferenceDir, RecipeVariant? Variant = null, bool TrainOnly = false, bool ReportOnly = false)
{
    /// <summary>The directory of one cell: its bundle, checkpoint and result.</summary>
    public string CellDir(SbiTask task, NetworkRecipe network, int budget)
        => Path.Combine(OutDir, "cells", task.Name, network.Name, budget.ToString(CultureInfo.InvariantCulture));
}

/// <summary>One cell's result: how it trained, its C2ST at each observation and its calibration.</summary>
internal sealed record CellResult(
    string Task, string Network, int Simulations, ulong Seed, int BatchSize, int MaxEpochs, int EpochsRun, int BestEpoch,
    long OptimizerSteps, double BestValidationLoss, long SkippedRows, double TrainSeconds, double SampleSeconds, double ScoreSeconds,
    int Draws, double[] C2st, double C2stMean, int SbcDatasets, int SbcDraws, double? CalibrationError, bool? SbcBandHolds, string Bundle,
    string Recipe);

/// <summary>
/// The sbibm benchmark: for each (task, network, budget) cell, trains the network on that many simulations of the task,
/// samples the exported bundle through the runtime at the task's observations, and scores C2ST against the task's
/// reference posterior (cached on disk) and SBC on fresh simulations. Each finished cell writes its result.json
/// atomically; a rerun skips finished cells, and a cell whose training was killed resumes from its checkpoint.
/// </summary>
internal sealed class BenchmarkRunner(BenchmarkPlan plan, ILogger logger)
{
    /// <summary>The JSON settings of results: indented, snake_case names, NaN written as a string rather than refused.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private const string ResultFile = "result.json", BundleFile = "model.onnxsbi", CheckpointFile = "training.ckpt";

    private readonly ReferenceCache _references = new(plan.ReferenceDir);

    /// <summary>Runs every cell not finished yet, in order (task, then budget, then network), and returns all of them.</summary>
    public IReadOnlyList<CellResult> Run(CancellationToken ct)
    {
        var results = new List<CellResult>();
        int total = plan.Tasks.Count * plan.Budgets.Count * plan.Networks.Count, done = 0;
        foreach (var task in plan.Tasks)
        foreach (int budget in plan.Budgets)
        foreach (var network in plan.Networks)
        {
            ct.ThrowIfCancellationRequested();
            done++;
            string dir = plan.CellDir(task, network, budget);
            string resultPath = Path.Combine(dir, ResultFile);
            if (File.Exists(resultPath))
            {
                results.Add(JsonSerializer.Deserialize<CellResult>(File.ReadAllText(resultPath), Json)
                    ?? throw new InvalidDataException($"'{resultPath}' holds no cell result; delete it to run the cell again."));
                logger.LogInformation("[{Done}/{Total}] {Task} / {Network} / {Budget}: done earlier (C2ST {C2st:F3}, best validation loss {Loss:F4})",
                    done, total, task.Name, network.Name, budget, results[^1].C2stMean, results[^1].BestValidationLoss);
                continue;
            }
            if (plan.ReportOnly)
            {
                logger.LogInformation("[{Done}/{Total}] {Task} / {Network} / {Budget}: not run yet, left out of the report", done, total, task.Name, network.Name, budget);
                continue;
            }
            logger.LogInformation("[{Done}/{Total}] {Task} / {Network} / {Budget} simulations", done, total, task.Name, network.Name, budget);
            var result = RunCell(task, network, budget, dir, ct);
            AtomicFile.WriteAllText(resultPath, JsonSerializer.Serialize(result, Json));
            results.Add(result);
            logger.LogInformation("[{Done}/{Total}] {Task} / {Network} / {Budget}: mean C2ST {C2st:F3}, best validation loss {Loss:F4}, trained {Train:F0} s, SBC {Sbc}",
                done, total, task.Name, network.Name, budget, result.C2stMean, result.BestValidationLoss, result.TrainSeconds,
                result.SbcBandHolds is bool holds ? $"band {(holds ? "holds" : "violated")}, calibration error {result.CalibrationError:F3}" : "not run");
        }
        return results;
    }

    private CellResult RunCell(SbiTask task, NetworkRecipe network, int budget, string dir, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        var recipe = BenchmarkRecipe.For(task, network, budget, plan.MaxEpochs, plan.Variant);
        string bundle = Path.Combine(dir, BundleFile);
        // The bundle is written atomically once training ends, so its presence means the training is complete.
        if (!File.Exists(bundle)) Train(task, recipe, bundle, dir, ct);

        using var model = PosteriorModel.Load(bundle);
        var training = model.Description.Training ?? throw new InvalidDataException($"Bundle '{bundle}' has no training record; delete it to train the cell again.");
        double Metric(string name) => model.Description.Metrics.TryGetValue(name, out double v) ? v : double.NaN;

        if (plan.TrainOnly)
        {
            return new CellResult(task.Name, network.Name, budget, plan.Seed, recipe.BatchSize, recipe.Epochs, training.Epochs, (int)Metric("best_epoch"),
                training.OptimizerSteps, Metric("best_val_loss"), (long)Metric("skipped_rows"), training.Seconds, 0, 0,
                0, [], double.NaN, 0, 0, null, null, Path.GetRelativePath(plan.OutDir, bundle), recipe.Describe());
        }

        double[] xs = plan.Observations[task.Name];
        int rows = xs.Length / task.ObservationDim;
        var clock = Stopwatch.StartNew();
        var sampling = new SamplingOptions { Seed = plan.Seed + 1 };
        double[] theta = model.Sample(task.ObservationBatch(xs), plan.Draws, sampling, ct)[task.ParameterName];
        double sampleSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var scores = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            ct.ThrowIfCancellationRequested();
            var observation = xs.AsSpan(i * task.ObservationDim, task.ObservationDim);
            var reference = Reference(task, observation, i);
            scores[i] = C2st.Score(reference.Draws, theta.AsSpan(i * plan.Draws * task.ParameterDim, plan.Draws * task.ParameterDim), task.ParameterDim,
                new C2stOptions(Seed: 11 + (ulong)i));
        }
        double scoreSeconds = clock.Elapsed.TotalSeconds;

        double? calibration = null;
        bool? band = null;
        if (plan.SbcDatasets > 0)
        {
            var report = PosteriorDiagnostics.Run(model, FiniteSimulations(task, plan.SbcDatasets, plan.Seed + 2), new DiagnosticsOptions
            {
                NumDatasets = plan.SbcDatasets,
                NumDraws = plan.SbcDraws,
                Seed = plan.Seed + 3,
            }, ct);
            calibration = report.Parameters.Max(p => p.CalibrationError);
            band = report.AllWithinBand;
        }

        return new CellResult(task.Name, network.Name, budget, plan.Seed, recipe.BatchSize, recipe.Epochs, training.Epochs, (int)Metric("best_epoch"),
            training.OptimizerSteps, Metric("best_val_loss"), (long)Metric("skipped_rows"), training.Seconds, sampleSeconds, scoreSeconds,
            plan.Draws, scores, scores.Average(), plan.SbcDatasets, plan.SbcDraws, calibration, band,
            Path.GetRelativePath(plan.OutDir, bundle), recipe.Describe());
    }

    /// <summary>The seed of the reference draws at observation index k (0-based): 100 + k, as <see cref="TaskScoring"/> seeds test observation k + 1.</summary>
    public static ulong ReferenceSeed(int index) => 100 + (ulong)index;

    /// <summary>The reference draws at a task's observation, from the cache.</summary>
    private ReferenceCache.Entry Reference(SbiTask task, ReadOnlySpan<double> observation, int index)
    {
        var entry = _references.GetOrSample(task, observation, ReferenceSeed(index), plan.Draws);
        if (!entry.FromCache)
            logger.LogInformation("Reference posterior of {Task} at observation {Index}: {Seconds:F1} s{Mcmc}", task.Name, index + 1, entry.Seconds,
                double.IsNaN(entry.MaxRHat) ? "" : string.Create(CultureInfo.InvariantCulture, $", max R̂ {entry.MaxRHat:F4}, min bulk ESS {entry.MinBulkEss:F0}"));
        return entry;
    }

    private void Train(SbiTask task, BenchmarkRecipe recipe, string bundle, string dir, CancellationToken ct)
    {
        var options = recipe.Options(plan.Seed, plan.Threads, Path.Combine(dir, CheckpointFile));
        if (File.Exists(options.CheckpointPath))
            logger.LogInformation("Resuming from {Checkpoint}", options.CheckpointPath);
        logger.LogInformation("Training {Network}: {Train} simulations in batches of {Batch}, at most {Epochs} epochs{Stopping}, {Validation} validation sets",
            recipe.Network.Name, recipe.TrainingSets, recipe.BatchSize, recipe.Epochs,
            recipe.Patience > 0 ? $" (early stopping after {recipe.Patience})" : "", recipe.ValidationSets);
        var overrides = recipe.Overrides;
        logger.LogInformation("Recipe: {Recipe}", recipe.Describe());
        using var workflow = new BasicWorkflow(task.CreateSimulator(plan.Seed), task.CreateAdapter(), task.InferenceVariables, task.ConditionVariables,
            (d, c) => recipe.Network.Build(d, c, overrides));
        var history = workflow.FitOffline(recipe.TrainingSets, recipe.ValidationSets, options, new ConsoleProgress(logger, recipe.Network.Name), ct);
        workflow.Export(bundle, $"{recipe.Network.Title} on {task.Name}, {recipe.Simulations} simulations (sbibm benchmark)", new Dictionary<string, double>
        {
            ["final_loss"] = history.Loss[^1],
            ["final_val_loss"] = history.ValidationLoss[^1],
            ["best_epoch"] = history.BestEpoch,
            ["best_val_loss"] = history.BestEpoch > 0 ? history.BestValidationLoss : history.ValidationLoss[^1],
            ["skipped_rows"] = history.SkippedRows,
            ["train_seconds"] = history.Seconds,
        });
    }

    /// <summary>
    /// <paramref name="count"/> simulations with finite values: the ODE tasks' failed solves (NaN rows) are left out and
    /// replaced by further simulations, as SBC needs a posterior for every dataset.
    /// </summary>
    internal static ArrayBatch FiniteSimulations(SbiTask task, int count, ulong seed)
    {
        var simulator = task.CreateSimulator(seed);
        var parts = new List<ArrayBatch>();
        int held = 0;
        for (ulong round = 0; held < count; round++)
        {
            if (round == 64) throw new InvalidOperationException($"Task '{task.Name}' gave {held} finite simulations of {count} in 64 rounds; its simulator fails too often for SBC.");
            var batch = simulator.Sample(count, seed + round * 0x9E3779B97F4A7C15UL);
            double[] x = batch.Get(task.ObservationName), th = batch.Get(task.ParameterName);
            var keep = Enumerable.Range(0, batch.Rows).Where(r =>
                AllFinite(x.AsSpan(r * task.ObservationDim, task.ObservationDim)) && AllFinite(th.AsSpan(r * task.ParameterDim, task.ParameterDim))).ToArray();
            if (keep.Length == batch.Rows) parts.Add(batch);
            else if (keep.Length > 0)
            {
                parts.Add(new ArrayBatch(keep.Length)
                    .Set(task.ParameterName, keep.SelectMany(r => th.AsSpan(r * task.ParameterDim, task.ParameterDim).ToArray()).ToArray(), task.ParameterDim)
                    .Set(task.ObservationName, keep.SelectMany(r => x.AsSpan(r * task.ObservationDim, task.ObservationDim).ToArray()).ToArray(), task.ObservationDim));
            }
            held += keep.Length;
        }
        var all = parts.Count == 1 ? parts[0] : ArrayBatch.Concat(parts);
        return all.Rows == count ? all : all.Slice(0, count);
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (double v in values) if (!double.IsFinite(v)) return false;
        return true;
    }
}
