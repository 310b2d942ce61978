using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Runtime.Cli.Plots;
using OnnxSbi.Runtime.Diagnostics;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Runtime.Cli;

internal static partial class Commands
{
    /// <summary>Tasks whose simulator the runtime ships, by their --task name.</summary>
    private static readonly Dictionary<string, Func<ulong, Simulator>> Tasks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["two_moons"] = TwoMoons.CreateSimulator,
    };

    /// <summary>
    /// <c>diagnose</c>: SBC and BayesFlow's default diagnostics of a bundle on simulated or stored (θ, x)
    /// pairs; writes diagnostics.json, diagnostics.csv and the PNG figures to --out-dir and prints a summary.
    /// </summary>
    private static int Diagnose(string[] args, CancellationToken ct)
    {
        var a = new CliArgs("diagnose", args,
            ["model", "task", "test-set", "datasets", "draws", "seed", "out-dir", "observation", "confidence", "method", "steps", "atol", "rtol", .. RuntimeFlags], []);
        string outDir = a.Require("out-dir");
        string? task = a.Get("task"), testSet = a.Get("test-set");
        if ((task is null) == (testSet is null))
            throw new UsageException($"'diagnose': give exactly one of --task ({string.Join(", ", Tasks.Keys)}) or --test-set FILE.csv.");
        Func<ulong, Simulator>? createSimulator = null;
        if (task is not null && !Tasks.TryGetValue(task, out createSimulator))
            throw new UsageException($"'diagnose': unknown --task '{task}'. Known tasks: {string.Join(", ", Tasks.Keys)}.");
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
        DiagnosticsReport report;
        string source;
        if (createSimulator is not null)
        {
            source = $"task {task}";
            Console.Error.WriteLine($"diagnose: simulating {datasets ?? PosteriorDiagnostics.DefaultNumDatasets} datasets from {task}, {draws} draws each …");
            report = PosteriorDiagnostics.Run(model, createSimulator(seed), options, ct);
        }
        else
        {
            source = $"test set {testSet}";
            var specs = model.Manifest.InferenceVariables.Concat(model.Manifest.ConditionVariables).ToList();
            var pairs = DataFiles.ReadCsv(testSet!, specs, "test set");
            Console.Error.WriteLine($"diagnose: {datasets ?? pairs.Rows} datasets from '{testSet}', {draws} draws each …");
            report = PosteriorDiagnostics.Run(model, pairs, options, ct);
        }
        foreach (string w in report.Warnings) Console.Error.WriteLine($"warning: {w}");
        if (observation >= report.NumDatasets)
            throw new UsageException($"--observation must be in [0, {report.NumDatasets - 1}]; got {observation}.");

        var clock = Stopwatch.StartNew();
        var written = WriteOutputs(report, model, source, outDir, observation);
        double outputSeconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine(DiagnosticsFiles.Summary(report, model, source, outputSeconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote: {string.Join(", ", written)}"));
        return 0;
    }

    /// <summary>Writes the diagnose verb's files for <paramref name="report"/> into <paramref name="outDir"/> (observation 0 in the pairs plot).</summary>
    public static IReadOnlyList<string> WriteDiagnostics(DiagnosticsReport report, PosteriorModel model, string source, string outDir)
        => WriteOutputs(report, model, source, outDir, 0);

    /// <summary>Writes diagnostics.json, diagnostics.csv and the PNGs into <paramref name="outDir"/>; returns the paths written.</summary>
    internal static List<string> WriteOutputs(DiagnosticsReport report, PosteriorModel model, string source, string outDir, int observation)
    {
        var written = new List<string>();
        string Out(string name)
        {
            string path = Path.Combine(outDir, name);
            written.Add(path);
            return path;
        }
        DiagnosticsFiles.WriteJson(report, model, source, Out("diagnostics.json"));
        DiagnosticsFiles.WriteCsv(report, Out("diagnostics.csv"));
        DiagnosticPlots.Recovery(report, Out("recovery.png"));
        DiagnosticPlots.CalibrationEcdf(report, Out("calibration_ecdf.png"));
        DiagnosticPlots.ZScoreContraction(report, Out("z_score_contraction.png"));
        DiagnosticPlots.Coverage(report, Out("coverage.png"));
        DiagnosticPlots.Pairs(report, observation, Out("pairs.png"));
        string lossPath = Path.Combine(outDir, "loss.png");
        if (DiagnosticPlots.LossHistory(model.Manifest.Training, lossPath)) written.Add(lossPath);
        else Console.Error.WriteLine("diagnose: the bundle records no training losses; loss.png skipped.");
        return written;
    }
}
