using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>c2st</c>: scores a bundle against its task's reference posterior, as the tutorial does — C2ST at the task's
/// primary observation (x = (0, 0) for two moons) and at its fixed test observations, N model draws against N
/// reference draws each.
/// </summary>
internal static class C2stCommand
{
    public static Command Create()
    {
        var model = BenchCli.Option<string>("--model", "The bundle to score (.onnxsbi).");
        model.Required = true;
        var task = BenchCli.TaskOption("The task the bundle was trained on; its reference posterior is the baseline.");
        var draws = BenchCli.IntOption("--draws", "Model and reference draws per observation.", 10_000, 100, 1_000_000);
        var observations = BenchCli.IntOption("--observations", "Test observations scored after the primary one (the first K of the task's fixed ones).", 10, 0, 10);
        var output = BenchCli.Option<string?>("--out", "Also write the scores to this CSV file.");
        output.Validators.Add(r =>
        {
            string? v = r.GetValueOrDefault<string?>();
            if (v is not null && !v.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) r.AddError($"--out must end in .csv; got '{v}'.");
        });
        var sampling = new SamplingOptionSet();
        var runtime = new RuntimeOptionSet();
        var command = new Command("c2st", "C2ST of a bundle against the task's reference posterior at the primary observation and the first K fixed test observations.")
        {
            model, task, draws, observations, output,
        };
        sampling.AddTo(command);
        runtime.AddTo(command);
        command.SetAction((p, ct) => Task.FromResult(Run(p.GetValue(model)!, TaskCatalog.Get(p.GetValue(task)!), p.GetValue(draws), p.GetValue(observations),
            p.GetValue(output), sampling.Read(p), runtime.Read(p), ct)));
        return command;
    }

    private static int Run(string path, SbiTask task, int draws, int count, string? output, SamplingOptions options, RuntimeOptions runtime, CancellationToken ct)
    {
        if (count > task.NumTestObservations)
            throw new UsageException($"--observations must be in [0, {task.NumTestObservations}] for task '{task.Name}'; got {count}.");
        using var model = Bundles.Load(path, runtime);
        double[] xs = task.ScoringObservations(count);
        int rows = count + 1, xDim = task.ObservationDim;
        var clock = Stopwatch.StartNew();
        var result = model.Sample(task.ObservationBatch(xs), draws, options, ct);
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        foreach (string w in result.Warnings) Console.Error.WriteLine($"warning: {w}");
        double[] scores = TaskScoring.ScoreAtObservations(task, xs, result[task.ParameterName], draws);

        var inv = CultureInfo.InvariantCulture;
        var table = new StringBuilder($"observation,{string.Join(",", Enumerable.Range(1, xDim).Select(j => $"x{j}"))},c2st\n");
        for (int i = 0; i < rows; i++)
            table.Append(string.Create(inv, $"{(i == 0 ? "origin" : $"test{i}")},{string.Join(",", xs.AsSpan(i * xDim, xDim).ToArray().Select(v => v.ToString("R", inv)))},{scores[i]:F4}\n"));
        Console.Write(table);
        Console.WriteLine(string.Create(inv, $"C2ST at x=({string.Join(",", task.PrimaryObservation().Select(v => v.ToString("G", inv)))}): {scores[0]:F3}"));
        if (count > 0) Console.WriteLine(string.Create(inv, $"mean C2ST over {count} test observations: {scores.Skip(1).Average():F3}"));
        Console.Error.WriteLine(string.Create(inv,
            $"{rows} observation(s) × {draws} draws sampled in {sampleSeconds:F1} s, scored in {clock.Elapsed.TotalSeconds - sampleSeconds:F1} s"));
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            AtomicFile.WriteAllText(output, table.ToString());
            Console.Error.WriteLine($"→ {output}");
        }
        return ExitCodes.Success;
    }
}
