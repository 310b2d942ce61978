using OnnxSbi.Runtime.Bundles;
using System.CommandLine;
using System.Globalization;
using System.Text;

namespace OnnxSbi.Runtime.Cli;

/// <summary><c>log-prob</c>: the posterior log density of given parameter values, for bundles that have one.</summary>
internal static class LogProbCommand
{
    /// <summary>The verb, its options and its action.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CliOption.ExistingFile("--model", "The .onnxsbi bundle (required); coupling flows have an exact log density.", "PATH");
        var conditions = new ConditionOptionSet(
            "CSV of observations, columns like x[0],x[1]: one row for every parameter row, or one per row of --theta-file.");
        var theta = CliOption.ExistingFile("--theta-file", "CSV of parameter values (required), one row each, columns like theta[0],theta[1].", "F.csv");
        var runtime = new RuntimeOptionSet(sampling: false);
        var output = CliOption.Text("--out", "Output CSV (required): a log_prob column, one row per row of --theta-file.", "logprob.csv");
        var command = new Command("log-prob", "Evaluates the posterior log density of parameter values given an observation.");
        command.Options.Add(model);
        conditions.AddTo(command);
        command.Options.Add(theta);
        runtime.AddTo(command);
        command.Options.Add(output);
        command.SetAction(r =>
        {
            string path = r.GetValue(output) ?? throw new UsageException("'log-prob': missing required option '--out'.");
            // Densities use the forward graph only: no subnets are cut out for a sampling pass that never runs.
            using var posterior = BundleLoader.Load(SampleCommand.Required(r, model, "log-prob"), runtime.Read(r) with { CouplingInverse = CouplingInverseMode.Graph }, console);
            var batch = conditions.Read(r, posterior, out _);
            var values = DataFiles.ReadCsv(SampleCommand.Required(r, theta, "log-prob"), posterior.Description.InferenceVariables, "theta");
            double[] lp = posterior.LogProb(values, batch);
            DataFiles.WriteAtomically(path, s =>
            {
                using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                w.WriteLine("log_prob");
                foreach (double v in lp) w.WriteLine(v.ToString("R", CultureInfo.InvariantCulture));
            });
            console.Error.WriteLine($"{lp.Length} log densities → {path}");
            return ExitCodes.Success;
        });
        return command;
    }
}
