using OnnxSbi.Runtime.Bundles;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Diagnostics;

namespace OnnxSbi.Runtime.Cli;

/// <summary>
/// <c>diagnose</c>: SBC and BayesFlow's default diagnostics of a bundle on stored (θ, x) pairs; writes
/// diagnostics.json, diagnostics.csv and the PNG figures to --out-dir and prints a summary.
/// </summary>
internal static class DiagnoseCommand
{
    /// <summary>The verb, its options and its action.</summary>
    public static Command Create(CliConsole console, CancellationToken ct)
    {
        var model = CliOption.ExistingFile("--model", "The .onnxsbi bundle to diagnose (required).", "PATH");
        var testSet = CliOption.ExistingFile("--test-set",
            "CSV of (θ, x) pairs (required), columns like theta[0],theta[1],x[0],x[1], one dataset per row.", "F.csv");
        var datasets = CliOption.OptionalInt("--datasets", "Datasets to use: the first N rows of the test set. Default: all rows.",
            2, EcdfBand.MaxDatasets);
        var draws = CliOption.Int("--draws", "Posterior draws per dataset.", 500, 2, 1_000_000, "S");
        var observation = CliOption.Int("--observation", "The dataset shown in pairs.png.", 0, 0, int.MaxValue, "I");
        var confidence = CliOption.Double("--confidence", "Confidence of the simultaneous ECDF band and the coverage intervals.", 0.95, "C");
        var sampling = new SamplingOptionSet();
        var runtime = new RuntimeOptionSet(sampling: true);
        var outDir = CliOption.Text("--out-dir", "Directory for diagnostics.json, diagnostics.csv and the figures (required).", "DIR");
        var command = new Command("diagnose",
            "SBC ranks with a simultaneous ECDF band, calibration error, coverage, contraction, z-scores, NRMSE and R² " +
            "of a bundle on a test set; writes diagnostics.json, diagnostics.csv and PNG figures.");
        command.Options.Add(model);
        command.Options.Add(testSet);
        command.Options.Add(datasets);
        command.Options.Add(draws);
        command.Options.Add(observation);
        command.Options.Add(confidence);
        sampling.AddTo(command);
        runtime.AddTo(command);
        command.Options.Add(outDir);
        command.SetAction(r =>
        {
            string dir = r.GetValue(outDir) ?? throw new UsageException("'diagnose': missing required option '--out-dir'.");
            string pairsPath = SampleCommand.Required(r, testSet, "diagnose");
            var options = new DiagnosticsOptions
            {
                NumDatasets = r.GetValue(datasets),
                NumDraws = r.GetValue(draws),
                Seed = r.GetValue(sampling.Seed),
                Confidence = r.GetValue(confidence),
                // The diagnostics derive the sampling seed from --seed themselves.
                Sampling = sampling.Read(r),
            };
            options.Validate();

            using var posterior = BundleLoader.Load(SampleCommand.Required(r, model, "diagnose"), runtime.Read(r), console);
            string source = $"test set {pairsPath}";
            var specs = posterior.Description.InferenceVariables.Concat(posterior.Description.ConditionVariables).ToList();
            var pairs = DataFiles.ReadCsv(pairsPath, specs, "test set");
            console.Error.WriteLine($"diagnose: {options.NumDatasets ?? pairs.Rows} datasets from '{pairsPath}', {options.NumDraws} draws each …");
            var report = PosteriorDiagnostics.Run(posterior, pairs, options, ct);
            foreach (string w in report.Warnings) console.Error.WriteLine($"warning: {w}");
            int shown = r.GetValue(observation);
            if (shown >= report.NumDatasets)
                throw new UsageException($"--observation must be in [0, {report.NumDatasets - 1}]; got {shown}.");

            var clock = Stopwatch.StartNew();
            var written = DiagnosticsFiles.WriteAll(report, posterior, source, dir, shown);
            if (!written.Contains(Path.Combine(dir, DiagnosticsFiles.LossFigure)))
                console.Error.WriteLine($"diagnose: the bundle records no training losses; {DiagnosticsFiles.LossFigure} skipped.");
            double outputSeconds = clock.Elapsed.TotalSeconds;

            console.Out.WriteLine(DiagnosticsFiles.Summary(report, posterior, source, outputSeconds));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote: {string.Join(", ", written)}"));
            return ExitCodes.Success;
        });
        return command;
    }
}
