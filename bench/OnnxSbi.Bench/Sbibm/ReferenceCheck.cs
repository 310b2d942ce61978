using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.IO;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>One observation's reference check: two independent reference runs and the C2ST between them.</summary>
internal sealed record ReferenceCheckRow(string Task, int Observation, double C2st, double Seconds, double SecondsOfSecondRun,
    double MaxRHat, double MinBulkEss, double MaxRHatOfSecondRun, double MinBulkEssOfSecondRun);

/// <summary>
/// <c>benchmark --check-references</c>: at each scored observation, a second reference run with another seed is
/// scored with C2ST against the one the benchmark scores models against (both cached). Two exact samplers of one
/// posterior score about 0.5; a reference that has not converged, misses a mode or is biased scores above it.
/// Writes references.json and references.md with the C2ST and, for MCMC references, each run's R̂ and bulk ESS.
/// </summary>
internal static class ReferenceCheck
{
    /// <summary>The second run's seed at observation index k: apart from the scoring runs' 100 + k.</summary>
    public static ulong SecondSeed(int index) => 200 + (ulong)index;

    /// <summary>Runs the check over the plan's tasks and observations; returns the Markdown it wrote.</summary>
    public static string Run(BenchmarkPlan plan, ILogger logger, CancellationToken ct)
    {
        var cache = new ReferenceCache(plan.ReferenceDir);
        var rows = new List<ReferenceCheckRow>();
        foreach (var task in plan.Tasks)
        {
            double[] xs = plan.Observations[task.Name];
            for (int i = 0; i < xs.Length / task.ObservationDim; i++)
            {
                ct.ThrowIfCancellationRequested();
                var x = xs.AsSpan(i * task.ObservationDim, task.ObservationDim);
                var first = cache.GetOrSample(task, x, BenchmarkRunner.ReferenceSeed(i), plan.Draws);
                var second = cache.GetOrSample(task, x, SecondSeed(i), plan.Draws);
                double c2st = C2st.Score(first.Draws, second.Draws, task.ParameterDim, new C2stOptions(Seed: 11 + (ulong)i));
                rows.Add(new ReferenceCheckRow(task.Name, i + 1, c2st, first.Seconds, second.Seconds, first.MaxRHat, first.MinBulkEss, second.MaxRHat, second.MinBulkEss));
                logger.LogInformation("{Task} observation {Index}: C2ST of two reference runs {C2st:F3}", task.Name, i + 1, c2st);
            }
        }
        AtomicFile.WriteAllText(Path.Combine(plan.OutDir, "references.json"), JsonSerializer.Serialize(new { machine = BenchMachine.Cpu(), draws = plan.Draws, rows }, BenchmarkRunner.Json));
        string markdown = Markdown(rows, plan.Draws);
        AtomicFile.WriteAllText(Path.Combine(plan.OutDir, "references.md"), markdown);
        return markdown;
    }

    private static string Markdown(IReadOnlyList<ReferenceCheckRow> rows, int draws)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, inv) : "—";
        var sb = new StringBuilder();
        sb.AppendLine("# Reference posteriors: two independent runs against each other").AppendLine();
        sb.AppendLine(string.Create(inv, $"Machine: {BenchMachine.Cpu()}. {draws} draws per run; C2ST ≈ 0.5 means the runs agree. R̂ and bulk ESS are the MCMC chains' (— for exact samplers); seconds are each run's wall time when it was made."));
        sb.AppendLine();
        sb.AppendLine("| task | observations | mean C2ST | largest C2ST | largest R̂ | smallest bulk ESS | seconds per run (mean) |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var g in rows.GroupBy(r => r.Task))
        {
            double rhat = g.SelectMany(r => new[] { r.MaxRHat, r.MaxRHatOfSecondRun }).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
            double ess = g.SelectMany(r => new[] { r.MinBulkEss, r.MinBulkEssOfSecondRun }).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min();
            sb.AppendLine(string.Create(inv, $"| {g.Key} | {g.Count()} | {g.Average(r => r.C2st):F3} | {g.Max(r => r.C2st):F3} | {F(rhat, "F4")} | {F(ess, "F0")} | {g.Average(r => (r.Seconds + r.SecondsOfSecondRun) / 2):F1} |"));
        }
        return sb.ToString();
    }
}
