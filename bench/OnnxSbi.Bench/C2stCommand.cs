using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>c2st</c>: scores a bundle against its task's reference posterior, as the tutorial does — C2ST at the task's
/// primary observation (x = (0, 0) for two moons) and at its fixed test observations, N model draws against N
/// reference draws each; or, with <c>--reference FILE</c>, against the reference posteriors those .npz files hold
/// (<see cref="ReferencePosteriorFile"/>), for any bundle.
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
        var references = BenchCli.Option<string[]>("--reference",
            "Score against a reference posterior in a NumPy .npz file instead of the task's: the observation under each condition variable's name " +
            "([1, ...shape]) and the reference draws under each inference variable's name ([draws, ...shape]), e.g. from bench/tasks/gaussian_linear.py. " +
            "Repeatable; replaces --task and --observations, and --draws defaults to the file's draws.");
        var sampling = new SamplingOptionSet();
        var runtime = new RuntimeOptionSet();
        var command = new Command("c2st",
            "C2ST of a bundle against the task's reference posterior at the primary observation and the first K fixed test observations, " +
            "or against reference posteriors in .npz files (--reference).")
        {
            model, task, draws, observations, references, output,
        };
        sampling.AddTo(command);
        runtime.AddTo(command);
        command.SetAction((p, ct) =>
        {
            string[] files = p.GetValue(references) ?? [];
            if (files.Length == 0)
            {
                return Task.FromResult(Run(p.GetValue(model)!, TaskCatalog.Get(p.GetValue(task)!), p.GetValue(draws), p.GetValue(observations),
                    p.GetValue(output), sampling.Read(p), runtime.Read(p), ct));
            }
            foreach (var option in new Option[] { task, observations })
                if (p.GetResult(option) is { Implicit: false })
                    throw new UsageException($"{option.Name} chooses a task's reference posterior; it cannot be combined with --reference, whose files hold the observations and draws.");
            int? given = p.GetResult(draws) is { Implicit: false } ? p.GetValue(draws) : null;
            return Task.FromResult(RunReferences(p.GetValue(model)!, files, given, p.GetValue(output), sampling.Read(p), runtime.Read(p), ct));
        });
        return command;
    }

    /// <summary>
    /// C2ST at each reference file's observation: the model's draws there against the file's reference draws (all of them,
    /// or the first <paramref name="draws"/>), as many of each. Classifier seed 11 + i for file i, as the task scoring uses.
    /// </summary>
    private static int RunReferences(string path, string[] files, int? draws, string? output, SamplingOptions options, RuntimeOptions runtime, CancellationToken ct)
    {
        using var model = Bundles.Load(path, runtime);
        var description = model.Description;
        var inv = CultureInfo.InvariantCulture;
        var table = new StringBuilder("reference,draws,c2st\n");
        var scores = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < files.Length; i++)
        {
            var reference = ReferencePosteriorFile.Read(files[i], description);
            int n = draws ?? reference.Rows;
            if (n > reference.Rows)
                throw new UsageException($"--draws {n} exceeds the {reference.Rows} reference draws in '{files[i]}'; give at most {reference.Rows}, or leave --draws out to use them all.");
            var result = model.Sample(reference.Observation, n, options with { Seed = options.Seed + (ulong)i }, ct);
            foreach (string w in result.Warnings) Console.Error.WriteLine($"warning: {w}");
            double[] modelDraws = ReferencePosteriorFile.Join(result, description, n, reference.Dim);
            double score = C2st.Score(reference.Draws.AsSpan(0, n * reference.Dim), modelDraws, reference.Dim, new C2stOptions(Seed: 11 + (ulong)i));
            scores.Add(score);
            table.Append(string.Create(inv, $"{Csv(files[i])},{n},{score:F4}\n"));
        }
        Console.Write(table);
        Console.WriteLine(string.Create(inv, $"mean C2ST over {files.Length} reference file(s): {scores.Average():F3}"));
        Console.Error.WriteLine(string.Create(inv, $"{files.Length} reference file(s) sampled and scored in {clock.Elapsed.TotalSeconds:F1} s"));
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            AtomicFile.WriteAllText(output, table.ToString());
            Console.Error.WriteLine($"→ {output}");
        }
        return ExitCodes.Success;
    }

    /// <summary>A CSV field: quoted when it holds a comma, a quote or a line break.</summary>
    private static string Csv(string field)
        => field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : $"\"{field.Replace("\"", "\"\"")}\"";

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
            table.Append(string.Create(inv, $"{(i == 0 ? "primary" : $"test{i}")},{string.Join(",", xs.AsSpan(i * xDim, xDim).ToArray().Select(v => v.ToString("R", inv)))},{scores[i]:F4}\n"));
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
