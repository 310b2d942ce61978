using System.CommandLine;
using System.Text;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Simulations.Files;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// <c>adapter</c>: fits the adapter <c>train --data</c> would fit, on the same rows (the first rows of epoch 0's shuffled
/// order), and prints its transforms and fitted constants, or writes it as an adapter file for <c>train --adapter</c>.
/// </summary>
internal static class AdapterCommand
{
    // A list option that was not given reads as an empty array; the settings' "not given" is null.
    private static string[]? Given(string[]? values) => values is { Length: > 0 } ? values : null;

    /// <summary>The verb, its options and its action.</summary>
    public static Command Create()
    {
        var data = TrainCommand.List("--data", "Simulation files to fit on: .npy, .npz, .csv or .parquet files, directories or globs (as train --data).", "PATH");
        var shape = TrainCommand.List("--shape", "Per-sample shape of a variable stored as flat columns, e.g. x=4,2.", "VAR=D1,D2");
        var inference = TrainCommand.List("--inference-variables", "The variables the posterior is over, in order.", "VAR");
        var conditions = TrainCommand.List("--inference-conditions", "The variables the posterior is conditioned on, in order.", "VAR");
        var adapterFile = TrainCommand.Text("--adapter", "Adapter file to fit (protobuf JSON AdapterSpec). Default: built from the short-hands below.", "FILE.json");
        var standardize = TrainCommand.List("--standardize", "Variables to standardize (default: the inference conditions); 'none' for none.", "VAR");
        var log = TrainCommand.List("--log", "Variables to log-transform before standardizing.", "VAR");
        var constrain = TrainCommand.List("--constrain", "Bounds of a variable: VAR:LOWER:UPPER, either bound may be empty.", "VAR:LO:HI");
        var seed = TrainCommand.Typed<ulong>("--seed", "The training seed, which chooses the rows fitted on.", "S", "a non-negative integer", TrainSettings.DefaultSeed);
        var fitRows = TrainCommand.Typed<int>("--fit-rows", "Rows the adapter is fitted on (as train).", "N", "an integer", BasicWorkflow.DefaultAdapterFitRows);
        var print = TrainCommand.Switch("--print", "Print the fitted adapter's transforms and constants (the default when --out is not given).");
        var output = TrainCommand.Text("--out", "Write the fitted adapter as an adapter file (protobuf JSON), for train --adapter.", "FILE.json");
        var command = new Command("adapter", "Fits the adapter train --data would fit and prints it (transforms and fitted constants) or writes it as a file.")
        {
            data, shape, inference, conditions, adapterFile, standardize, log, constrain, seed, fitRows, print, output,
        };
        command.SetAction(r =>
        {
            var s = new TrainSettings
            {
                Data = Given(r.GetValue(data)),
                Shape = Given(r.GetValue(shape)),
                InferenceVariables = Given(r.GetValue(inference)),
                InferenceConditions = Given(r.GetValue(conditions)),
                Adapter = r.GetValue(adapterFile),
                Standardize = Given(r.GetValue(standardize)),
                Log = Given(r.GetValue(log)),
                Constrain = Given(r.GetValue(constrain)),
                Seed = r.GetValue(seed),
            };
            if (s.Data is not { Length: > 0 }) throw new UsageException("'adapter': missing required option '--data PATH'.");
            if (s.InferenceVariables is not { Length: > 0 }) throw new UsageException("'adapter': missing required option '--inference-variables VAR'.");
            if (s.Adapter is not null && (s.Standardize is not null || s.Log is not null || s.Constrain is not null))
                throw new UsageException("'adapter': give the adapter either as --adapter FILE or as --standardize/--log/--constrain short-hands, not both.");
            int rows = r.GetValue(fitRows);
            if (rows <= 0) throw new UsageException($"'adapter': --fit-rows must be a positive integer; got '{rows}'.");

            var adapter = TrainRunner.CreateAdapter(s);
            var files = SimulationFiles.Open(s.Data, TrainRunner.UserVariables(s), new SimulationFileOptions { Shapes = TrainRunner.ParseShapes(s.Shape) });
            // The rows and the fit train uses: an adapter file's fitted constants are kept, failed simulations left out.
            // No network is built here, so the workflow's network factory is never called.
            using (var shuffle = new SimulationShuffle(files, s.Seed))
            using (var workflow = new BasicWorkflow(adapter, s.InferenceVariables, s.InferenceConditions ?? [], (_, _) => throw new InvalidOperationException("adapter builds no network")))
                workflow.FitAdapter(shuffle.ReadTraining(0, 0, (int)Math.Min(rows, shuffle.TrainingRows)));
            string? path = r.GetValue(output);
            if (path is not null)
                AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(adapter.ToJson() + "\n"));
            if (path is null || r.GetValue(print))
            {
                Console.WriteLine($"Adapter fitted on {Math.Min(rows, files.Rows)} of {files.Rows} rows ({files.Shards.Count} shard(s)), seed {s.Seed}:");
                Console.WriteLine(adapter.Describe());
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
