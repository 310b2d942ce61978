using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>diagnose --task NAME</c>: SBC and BayesFlow's default diagnostics of a bundle on pairs (θ, x) simulated from the
/// task's simulator; writes diagnostics.json, diagnostics.csv and the PNG figures to --out-dir and prints a summary.
/// (<c>onnxsbi diagnose --test-set</c> does the same on stored pairs.)
/// </summary>
internal static class DiagnoseCommand
{
    public static Command Create()
    {
        var model = BenchCli.Option<string>("--model", "The bundle to diagnose (.onnxsbi).");
        model.Required = true;
        var task = BenchCli.TaskOption("The task whose simulator draws the (θ, x) pairs.");
        var outDir = BenchCli.Option<string>("--out-dir", "Directory for diagnostics.json, diagnostics.csv and the figures (created when missing).");
        outDir.Required = true;
        var datasets = BenchCli.IntOption("--datasets", "Simulated datasets (θ, x).", PosteriorDiagnostics.DefaultNumDatasets, 2, EcdfBand.MaxDatasets);
        var draws = BenchCli.IntOption("--draws", "Posterior draws per dataset.", 500, 2, 1_000_000);
        var observation = BenchCli.IntOption("--observation", "The dataset whose posterior the pairs plot shows.", 0, 0, int.MaxValue);
        var confidence = BenchCli.Option<double>("--confidence", "Confidence of the simultaneous ECDF band.", () => 0.95);
        var sampling = new SamplingOptionSet();
        var runtime = new RuntimeOptionSet();
        var command = new Command("diagnose", "SBC ranks with a simultaneous ECDF band, calibration error, coverage, contraction, z-scores, NRMSE and R² of a bundle on its task's simulator.")
        {
            model, task, outDir, datasets, draws, observation, confidence,
        };
        sampling.AddTo(command);
        runtime.AddTo(command);
        command.SetAction((p, ct) =>
        {
            var samplingOptions = sampling.Read(p);
            var options = new DiagnosticsOptions
            {
                NumDatasets = p.GetValue(datasets),
                NumDraws = p.GetValue(draws),
                Seed = samplingOptions.Seed,
                Confidence = p.GetValue(confidence),
                // The diagnostics derive the sampling seed from --seed themselves.
                Sampling = samplingOptions,
            };
            return Task.FromResult(Run(p.GetValue(model)!, TaskCatalog.Get(p.GetValue(task)!), p.GetValue(outDir)!, p.GetValue(observation), options, runtime.Read(p), ct));
        });
        return command;
    }

    private static int Run(string path, SbiTask task, string outDir, int observation, DiagnosticsOptions options, RuntimeOptions runtime, CancellationToken ct)
    {
        try { options.Validate(); }
        catch (InvalidRequestException e) { throw new UsageException(e.Message); }
        if (observation >= options.NumDatasets)
            throw new UsageException($"--observation must be in [0, {options.NumDatasets - 1}]; got {observation}.");
        using var model = Bundles.Load(path, runtime);
        string source = $"task {task.Name}";
        Console.Error.WriteLine($"diagnose: simulating {options.NumDatasets} datasets from {task.Name}, {options.NumDraws} draws each …");
        var report = PosteriorDiagnostics.Run(model, task.CreateSimulator(options.Seed), options, ct);
        foreach (string w in report.Warnings) Console.Error.WriteLine($"warning: {w}");

        var clock = Stopwatch.StartNew();
        var written = DiagnosticsFiles.WriteAll(report, model, source, outDir, observation);
        if (!written.Contains(Path.Combine(outDir, DiagnosticsFiles.LossFigure)))
            Console.Error.WriteLine($"diagnose: the bundle records no training losses; {DiagnosticsFiles.LossFigure} skipped.");
        double outputSeconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine(DiagnosticsFiles.Summary(report, model, source, outputSeconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote: {string.Join(", ", written)}"));
        return ExitCodes.Success;
    }
}
