using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>
/// <c>benchmark</c>: the sbibm benchmark (Lueckmann et al. 2021) over tasks × networks × simulation budgets, scored
/// with C2ST against each task's reference posterior and with SBC, written as results.json and results.md beside
/// sbibm's published means. Resumable: a rerun of the same command continues where a killed one stopped.
/// </summary>
internal static class BenchmarkCommand
{
    /// <summary>sbibm's three budgets.</summary>
    public static readonly int[] DefaultBudgets = [1_000, 10_000, 100_000];

    /// <summary>What <c>--quick</c> runs unless an option says otherwise: two tasks, two networks, 10³ simulations, 3 observations.</summary>
    internal static readonly string[] QuickTasks = [TwoMoonsTask.TaskName, GaussianLinearTask.TaskName];
    internal static readonly string[] QuickNetworks = [FlowMatching.Recipe.Name, CouplingFlow.AffineRecipe.Name];
    internal const int QuickObservations = 3, QuickDraws = 1_000, QuickSbcDatasets = 100, QuickSbcDraws = 50, QuickMaxEpochs = 40;

    public static Command Create()
    {
        var tasks = BenchCli.Option<string?>("--task", $"Tasks, comma-separated, from: {string.Join(", ", TaskCatalog.Names)}. Default: all (with --quick: {string.Join(",", QuickTasks)}).");
        tasks.HelpName = "T[,T…]";
        var networks = BenchCli.Option<string?>("--network", $"Networks, comma-separated, from: {string.Join(", ", NetworkCatalog.All.Select(r => r.Name))}. Default: all (with --quick: {string.Join(",", QuickNetworks)}).");
        networks.HelpName = "N[,N…]";
        var budgets = BenchCli.Option<string?>("--simulations", $"Simulation budgets, comma-separated (training and validation together). Default: {string.Join(",", DefaultBudgets)} (with --quick: 1000).");
        budgets.HelpName = "S[,S…]";
        var observations = BenchCli.Option<int?>("--observations", $"The task's fixed test observations scored, the first K of 10. Default: 10 (with --quick: {QuickObservations}).");
        observations.HelpName = "K";
        var observationFile = BenchCli.Option<string?>("--observation-file",
            "Score at the observations in this NumPy .npz file instead: the task's observation variable ('x') as [M, K]. Needs a single --task.");
        var draws = BenchCli.Option<int?>("--draws", $"Model and reference draws per observation. Default: 10000 (with --quick: {QuickDraws}).");
        var sbcDatasets = BenchCli.Option<int?>("--sbc-datasets", $"SBC datasets per cell; 0 turns SBC off. Default: 200 (with --quick: {QuickSbcDatasets}).");
        var sbcDraws = BenchCli.Option<int?>("--sbc-draws", $"Posterior draws per SBC dataset. Default: 100 (with --quick: {QuickSbcDraws}).");
        var seed = BenchCli.Option<ulong>("--seed", "Seed of simulation, training and sampling.", () => 1);
        var threads = BenchCli.IntOption("--threads", "TorchSharp training threads.", 1, 1, 1024);
        var outDir = BenchCli.Option<string>("--out-dir", "Directory for the cells (bundle, checkpoint, result), the reference cache and results.json/results.md.", () => Path.Combine("out", "sbibm"));
        var referenceDir = BenchCli.Option<string?>("--reference-cache", "Directory of the cached reference draws, shared between runs. Default: OUT-DIR/references.");
        var widths = BenchCli.Option<string?>("--widths", "Recipe search: subnet hidden widths for every cell, comma-separated, e.g. 64,64, in place of the chosen recipes'.");
        widths.HelpName = "W1,W2";
        var dropout = BenchCli.Option<double?>("--dropout", "Recipe search: subnet dropout for every cell, 0 to 0.9, in place of the chosen recipes'.");
        var trainOnly = BenchCli.Option<bool>("--train-only", "Recipe search: train the cells and record their best held-out validation loss; no sampling, reference or scoring.");
        var checkReferences = BenchCli.Option<bool>("--check-references",
            "Check the reference posteriors instead of training: at each observation, C2ST between the scoring reference run and a second run with another seed " +
            "(both cached), with the MCMC runs' R̂ and bulk ESS; writes references.json and references.md. --network and --simulations are ignored.");
        var reportOnly = BenchCli.Option<bool>("--report-only", "Run no cell: write results.json and results.md from the cells finished so far (e.g. while a long run goes on), leaving out the others.");
        var quick = BenchCli.Option<bool>("--quick", $"A reduced run of a few minutes: the defaults above marked 'with --quick', and at most {QuickMaxEpochs} epochs per cell.");
        var command = new Command("benchmark",
            "The sbibm benchmark: train every (task, network, budget) cell, sample 10,000 draws per observation through the runtime, score C2ST against the task's " +
            "reference posterior and SBC, and write results.json and results.md beside sbibm's published means. A killed run resumes when run again.")
        {
            tasks, networks, budgets, observations, observationFile, draws, sbcDatasets, sbcDraws, seed, threads, outDir, referenceDir, widths, dropout, trainOnly, checkReferences, reportOnly, quick,
        };
        command.SetAction((p, ct) =>
        {
            bool q = p.GetValue(quick);
            var taskList = ParseList(p.GetValue(tasks), "--task", q ? QuickTasks : TaskCatalog.Names, TaskCatalog.Names).Select(TaskCatalog.Get).ToArray();
            var networkList = ParseList(p.GetValue(networks), "--network", q ? QuickNetworks : NetworkCatalog.All.Select(r => r.Name).ToArray(),
                NetworkCatalog.All.Select(r => r.Name).ToArray()).Select(NetworkCatalog.Get).ToArray();
            var budgetList = ParseBudgets(p.GetValue(budgets), q ? [1_000] : DefaultBudgets);
            int k = Ranged(p.GetValue(observations) ?? (q ? QuickObservations : 10), "--observations", 1, 10);
            string output = Path.GetFullPath(p.GetValue(outDir)!);
            var plan = new BenchmarkPlan(taskList, networkList, budgetList,
                Observations(taskList, k, p.GetValue(observationFile)),
                Ranged(p.GetValue(draws) ?? (q ? QuickDraws : 10_000), "--draws", 100, 1_000_000),
                Ranged(p.GetValue(sbcDatasets) ?? (q ? QuickSbcDatasets : 200), "--sbc-datasets", 0, EcdfBandLimit),
                Ranged(p.GetValue(sbcDraws) ?? (q ? QuickSbcDraws : 100), "--sbc-draws", 2, 100_000),
                p.GetValue(seed), p.GetValue(threads), q ? QuickMaxEpochs : null, output,
                Path.GetFullPath(p.GetValue(referenceDir) ?? Path.Combine(output, "references")),
                Variant(p.GetValue(widths), p.GetValue(dropout)), p.GetValue(trainOnly), p.GetValue(reportOnly));
            return Task.FromResult(p.GetValue(checkReferences) ? CheckReferences(plan, ct) : Run(plan, ct));
        });
        return command;
    }

    private const int EcdfBandLimit = OnnxSbi.Diagnostics.EcdfBand.MaxDatasets;

    private static ILoggerFactory Loggers() => LoggerFactory.Create(b =>
    {
        b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        b.SetMinimumLevel(LogLevel.Information);
    });

    private static int CheckReferences(BenchmarkPlan plan, CancellationToken ct)
    {
        using var loggerFactory = Loggers();
        Directory.CreateDirectory(plan.OutDir);
        Console.WriteLine(ReferenceCheck.Run(plan, loggerFactory.CreateLogger("onnxsbi-bench"), ct));
        return ExitCodes.Success;
    }

    private static int Run(BenchmarkPlan plan, CancellationToken ct)
    {
        using var loggerFactory = Loggers();
        var logger = loggerFactory.CreateLogger("onnxsbi-bench");
        Directory.CreateDirectory(plan.OutDir);
        // Every cell's recipe is checked before any training starts, so a budget too small fails at once.
        foreach (var task in plan.Tasks) foreach (var network in plan.Networks) foreach (int budget in plan.Budgets)
            BenchmarkRecipe.For(task, network, budget, plan.MaxEpochs, plan.Variant);
        IReadOnlyList<CellResult> cells;
        try { cells = new BenchmarkRunner(plan, logger).Run(ct); }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Stopped by a signal; finished cells and the running cell's checkpoint are kept. Run the same command again to continue.");
            throw;
        }
        string markdown = BenchmarkReport.Write(plan, cells, PublishedScores.Embedded, BenchMachine.Cpu());
        Console.WriteLine(markdown);
        logger.LogInformation("Wrote {Json} and {Md}", Path.Combine(plan.OutDir, "results.json"), Path.Combine(plan.OutDir, "results.md"));
        return ExitCodes.Success;
    }

    /// <summary>A comma-separated list of names, each of <paramref name="valid"/>; <paramref name="defaults"/> when not given.</summary>
    internal static string[] ParseList(string? text, string option, IReadOnlyList<string> defaults, IReadOnlyList<string> valid)
    {
        if (text is null) return [.. defaults];
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new UsageException($"{option} needs at least one name; valid: {string.Join(", ", valid)}.");
        foreach (string name in names)
            if (!valid.Contains(name)) throw new UsageException($"{option}: unknown name '{name}'. Valid: {string.Join(", ", valid)}.");
        if (names.Distinct().Count() != names.Length) throw new UsageException($"{option} names '{names.GroupBy(n => n).First(g => g.Count() > 1).Key}' twice.");
        return names;
    }

    /// <summary>A comma-separated list of positive budgets; <paramref name="defaults"/> when not given.</summary>
    internal static int[] ParseBudgets(string? text, int[] defaults)
    {
        if (text is null) return defaults;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var budgets = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out budgets[i]) || budgets[i] < 100)
                throw new UsageException($"--simulations: '{parts[i]}' is not a budget; give integers of at least 100, comma-separated, e.g. 1000,10000.");
        }
        if (budgets.Length == 0) throw new UsageException("--simulations needs at least one budget, e.g. 1000.");
        return budgets;
    }

    /// <summary>The recipe-search settings, or null when neither is given.</summary>
    internal static RecipeVariant? Variant(string? widths, double? dropout)
    {
        if (widths is null && dropout is null) return null;
        int[]? w = null;
        if (widths is not null)
        {
            var parts = widths.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            w = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out w[i]) || w[i] < 1 || w[i] > 65_536)
                    throw new UsageException($"--widths: '{parts[i]}' is not a width; give positive integers, comma-separated, e.g. 64,64.");
            if (w.Length == 0) throw new UsageException("--widths needs at least one width, e.g. 64,64.");
        }
        if (dropout is double d && !(d >= 0 && d <= 0.9)) throw new UsageException($"--dropout must be in [0, 0.9]; got {d}.");
        return new RecipeVariant(w, dropout);
    }

    private static int Ranged(int value, string option, int min, int max)
        => value >= min && value <= max ? value : throw new UsageException($"{option} must be an integer in [{min}, {max}]; got {value}.");

    /// <summary>The observations scored per task: the first <paramref name="count"/> fixed test observations, or the file's.</summary>
    private static Dictionary<string, double[]> Observations(SbiTask[] tasks, int count, string? file)
    {
        if (file is null) return tasks.ToDictionary(t => t.Name, t => t.TestObservations()[..(count * t.ObservationDim)]);
        if (tasks.Length != 1) throw new UsageException($"--observation-file holds observations of one task; give a single --task (got {tasks.Length}).");
        var task = tasks[0];
        var arrays = NpzArchive.Read(file);
        if (!arrays.TryGetValue(task.ObservationName, out var x))
            throw new OnnxSbiException($"--observation-file '{file}' has no array '{task.ObservationName}' (it has: {string.Join(", ", arrays.Keys)}).");
        if (x.Shape.Count != 2 || x.Shape[1] != task.ObservationDim || x.Shape[0] < 1)
            throw new OnnxSbiException($"--observation-file '{file}': '{task.ObservationName}' has shape {x.ShapeText}; expected (M, {task.ObservationDim}) for task '{task.Name}'.");
        for (int i = 0; i < x.Data.Length; i++)
            if (!double.IsFinite(x.Data[i]))
                throw new OnnxSbiException($"--observation-file '{file}': '{task.ObservationName}' holds {x.Data[i]} at row {i / task.ObservationDim}; observations must be finite.");
        return new Dictionary<string, double[]> { [task.Name] = x.Data };
    }
}
