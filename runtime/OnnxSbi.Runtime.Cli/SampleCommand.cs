using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace OnnxSbi.Runtime.Cli;

/// <summary><c>sample</c>: posterior draws for one observation or a file of observations, written as CSV or NPY.</summary>
internal static class SampleCommand
{
    /// <summary>The verb, its options and its action.</summary>
    public static Command Create(CliConsole console, CancellationToken ct)
    {
        var model = CliOption.ExistingFile("--model", "The .onnxsbi bundle to sample (required).", "PATH");
        var conditions = new ConditionOptionSet(
            "CSV of observations, columns like x[0],x[1], one row each; the draws then get a leading condition column.");
        var numSamples = CliOption.OptionalInt("--num-samples", "Draws per observation (required).", 1);
        var sampling = new SamplingOptionSet();
        var runtime = new RuntimeOptionSet(sampling: true);
        var output = CliOption.Text("--out",
            "Output file (required): .csv (a header of parameter columns, one row per draw) or .npy (float64, [conditions, draws, width]).", "draws.csv|draws.npy");
        var command = new Command("sample", "Draws from the posterior of a bundle for one observation (--condition) or many (--conditions-file).");
        command.Options.Add(model);
        conditions.AddTo(command);
        command.Options.Add(numSamples);
        sampling.AddTo(command);
        runtime.AddTo(command);
        command.Options.Add(output);
        command.SetAction(r =>
        {
            string path = r.GetValue(output) ?? throw new UsageException("'sample': missing required option '--out'.");
            if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--out must end in .csv or .npy; got '{path}'.");
            int n = r.GetValue(numSamples) ?? throw new UsageException("'sample': missing required option '--num-samples'.");
            var options = sampling.Read(r);
            using var posterior = BundleLoader.Load(Required(r, model, "sample"), runtime.Read(r), console);
            var batch = conditions.Read(r, posterior, out bool many);
            var clock = Stopwatch.StartNew();
            var draws = posterior.Sample(batch, n, options, ct);
            clock.Stop();
            foreach (string w in draws.Warnings) console.Error.WriteLine($"warning: {w}");
            DataFiles.WriteDraws(path, draws, many);
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{draws.NumConditions} condition(s) × {draws.NumDraws} draws in {clock.Elapsed.TotalMilliseconds:F1} ms ({posterior.Provider}) → {path}"));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The path of a required file option, or a usage error naming it.</summary>
    internal static string Required(ParseResult r, Option<FileInfo?> option, string verb)
        => r.GetValue(option)?.ToString() ?? throw new UsageException($"'{verb}': missing required option '{option.Name}'.");
}
