using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Diagnostics;

namespace OnnxSbi.Runtime.Cli;

internal static partial class Commands
{
    /// <summary>
    /// <c>diagnose</c>: SBC and BayesFlow's default diagnostics of a bundle on stored (θ, x) pairs; writes
    /// diagnostics.json, diagnostics.csv and the PNG figures to --out-dir and prints a summary.
    /// </summary>
    private static int Diagnose(string[] args, CancellationToken ct)
    {
        var a = new CliArgs("diagnose", args,
            ["model", "test-set", "datasets", "draws", "seed", "out-dir", "observation", "confidence", "method", "steps", "atol", "rtol", .. RuntimeFlags], []);
        string outDir = a.Require("out-dir");
        string testSet = a.Require("test-set");
        int? datasets = a.Int("datasets", 2, EcdfBand.MaxDatasets);
        int draws = a.Int("draws", 2, 1_000_000) ?? 500;
        ulong seed = a.ULong("seed") ?? 1;
        int observation = a.Int("observation", 0, int.MaxValue) ?? 0;
        var options = new DiagnosticsOptions
        {
            NumDatasets = datasets,
            NumDraws = draws,
            Seed = seed,
            Confidence = a.Double("confidence") ?? 0.95,
            // The diagnostics derive the sampling seed from --seed themselves.
            Sampling = ParseSampling(a),
        };
        options.Validate();

        using var model = Load(a.Require("model"), ParseRuntime(a));
        string source = $"test set {testSet}";
        var specs = model.Manifest.InferenceVariables.Concat(model.Manifest.ConditionVariables).ToList();
        var pairs = DataFiles.ReadCsv(testSet, specs, "test set");
        Console.Error.WriteLine($"diagnose: {datasets ?? pairs.Rows} datasets from '{testSet}', {draws} draws each …");
        var report = PosteriorDiagnostics.Run(model, pairs, options, ct);
        foreach (string w in report.Warnings) Console.Error.WriteLine($"warning: {w}");
        if (observation >= report.NumDatasets)
            throw new UsageException($"--observation must be in [0, {report.NumDatasets - 1}]; got {observation}.");

        var clock = Stopwatch.StartNew();
        var written = DiagnosticsFiles.WriteAll(report, model, source, outDir, observation);
        if (!written.Contains(Path.Combine(outDir, DiagnosticsFiles.LossFigure)))
            Console.Error.WriteLine($"diagnose: the bundle records no training losses; {DiagnosticsFiles.LossFigure} skipped.");
        double outputSeconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine(DiagnosticsFiles.Summary(report, model, source, outputSeconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote: {string.Join(", ", written)}"));
        return 0;
    }
}
