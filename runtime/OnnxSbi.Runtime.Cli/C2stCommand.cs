using System.Diagnostics;
using System.Globalization;
using System.Text;
using OnnxSbi.Runtime.Diagnostics;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Runtime.Cli;

internal static partial class Commands
{
    /// <summary>
    /// <c>c2st</c>: scores a two-moons bundle against the exact posterior, as the tutorial does — C2ST at
    /// x = (0, 0) and at the fixed test observations, N model draws against N exact rejection draws each.
    /// </summary>
    private static int C2stVerb(string[] args, CancellationToken ct)
    {
        var a = new CliArgs("c2st", args,
            ["model", "task", "draws", "seed", "observations", "method", "steps", "atol", "rtol", "out", .. RuntimeFlags], []);
        string task = a.Get("task") ?? "two_moons";
        if (!string.Equals(task, "two_moons", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"'c2st': unknown --task '{task}'. Only two_moons has an exact posterior here.");
        int draws = a.Int("draws", 100, 1_000_000) ?? 10_000;
        int count = a.Int("observations", 0, 10) ?? 10;
        string? output = a.Get("out");
        if (output is not null && !output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--out must end in .csv; got '{output}'.");
        var options = ParseSampling(a);

        using var model = Load(a.Require("model"), ParseRuntime(a));
        double[] xs = TwoMoonsPosterior.ScoringObservations(count);
        int rows = count + 1;
        var clock = Stopwatch.StartNew();
        var result = model.Sample(new ArrayBatch(rows).Set(TwoMoons.Observations, xs, 2), draws, options, ct);
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        foreach (string w in result.Warnings) Console.Error.WriteLine($"warning: {w}");
        double[] scores = TwoMoonsPosterior.ScoreAtObservations(xs, result[TwoMoons.Parameters], draws);

        var inv = CultureInfo.InvariantCulture;
        var table = new StringBuilder("observation,x1,x2,c2st\n");
        for (int i = 0; i < rows; i++)
            table.Append(string.Create(inv, $"{(i == 0 ? "origin" : $"test{i}")},{xs[2 * i]:R},{xs[2 * i + 1]:R},{scores[i]:F4}\n"));
        Console.Write(table);
        Console.WriteLine(string.Create(inv, $"C2ST at x=(0,0): {scores[0]:F3}"));
        if (count > 0) Console.WriteLine(string.Create(inv, $"mean C2ST over {count} test observations: {scores.Skip(1).Average():F3}"));
        Console.Error.WriteLine(string.Create(inv,
            $"{rows} observation(s) × {draws} draws sampled in {sampleSeconds:F1} s, scored in {clock.Elapsed.TotalSeconds - sampleSeconds:F1} s"));
        if (output is not null)
        {
            DataFiles.WriteAtomically(output, s =>
            {
                using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                w.Write(table);
            });
            Console.Error.WriteLine($"→ {output}");
        }
        return 0;
    }
}
