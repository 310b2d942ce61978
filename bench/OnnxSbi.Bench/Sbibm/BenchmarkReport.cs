using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxSbi.Runtime.IO;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>The benchmark's results.json and results.md: every cell, side by side with sbibm's published means.</summary>
internal static class BenchmarkReport
{
    /// <summary>Writes <c>results.json</c> and <c>results.md</c> into the plan's output directory, atomically; returns the Markdown.</summary>
    public static string Write(BenchmarkPlan plan, IReadOnlyList<CellResult> cells, PublishedScores published, string machine)
    {
        var json = new
        {
            machine,
            seed = plan.Seed,
            draws = plan.Draws,
            observations = plan.Observations.ToDictionary(o => o.Key, o => o.Value.Length / plan.Tasks.First(t => t.Name == o.Key).ObservationDim),
            sbc = new { datasets = plan.SbcDatasets, draws = plan.SbcDraws },
            cells,
            published = cells.Select(c => (c.Task, c.Simulations)).Distinct().SelectMany(k => PublishedScores.Algorithms
                .Select(a => new { task = k.Task, algorithm = a, simulations = k.Simulations, c2st_mean = published.Mean(k.Task, a, k.Simulations) })
                .Where(p => p.c2st_mean is not null)),
        };
        AtomicFile.WriteAllText(Path.Combine(plan.OutDir, "results.json"), JsonSerializer.Serialize(json, BenchmarkRunner.Json));
        string markdown = Markdown(plan, cells, published, machine);
        AtomicFile.WriteAllText(Path.Combine(plan.OutDir, "results.md"), markdown);
        return markdown;
    }

    /// <summary>The Markdown tables: C2ST beside the published means, then calibration and training time per cell.</summary>
    internal static string Markdown(BenchmarkPlan plan, IReadOnlyList<CellResult> cells, PublishedScores published, string machine)
    {
        var inv = CultureInfo.InvariantCulture;
        var networks = plan.Networks.Select(n => n.Name).Where(n => cells.Any(c => c.Network == n)).ToArray();
        var keys = cells.Select(c => (c.Task, c.Simulations)).Distinct().ToArray();
        CellResult? Cell(string task, string network, int sims) => cells.FirstOrDefault(c => c.Task == task && c.Network == network && c.Simulations == sims);
        string F(double? v) => v is double d && double.IsFinite(d) ? d.ToString("F3", inv) : "—";

        var sb = new StringBuilder();
        sb.AppendLine("# sbibm benchmark: C2ST against the reference posteriors").AppendLine();
        sb.AppendLine(string.Create(inv, $"Machine: {machine}. Seed {plan.Seed}; {plan.Draws} model draws against {plan.Draws} reference draws per observation; ")
            + "each value is the mean C2ST over the task's scored observations (0.5 = indistinguishable, lower is better).");
        sb.AppendLine("Published means: sbibm (Lueckmann et al. 2021, AISTATS), `bench/sbibm/published_c2st.csv`; — where none is published.").AppendLine();

        sb.Append("| task | simulations | ").Append(string.Join(" | ", networks)).Append(" | best ours | ")
          .Append(string.Join(" | ", PublishedScores.Algorithms)).AppendLine(" | best ours < NPE |");
        sb.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---|", networks.Length + 1 + PublishedScores.Algorithms.Length + 1))).AppendLine();
        foreach (var (task, sims) in keys)
        {
            var ours = networks.Select(n => Cell(task, n, sims)?.C2stMean).ToArray();
            double? best = ours.Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Min();
            double? npe = published.Mean(task, "NPE", sims);
            string beats = npe is double p && best is double b && double.IsFinite(b) ? (b < p ? "yes" : "no") : "—";
            sb.Append(inv, $"| {task} | {sims} | ").Append(string.Join(" | ", ours.Select(F))).Append($" | **{F(best)}** | ")
              .Append(string.Join(" | ", PublishedScores.Algorithms.Select(a => F(published.Mean(task, a, sims))))).AppendLine($" | {beats} |");
        }

        sb.AppendLine();
        foreach (int sims in keys.Select(k => k.Simulations).Distinct().Order())
        {
            var tasks = keys.Where(k => k.Simulations == sims).Select(k => k.Task).Where(t => published.Mean(t, "NPE", sims) is not null).ToArray();
            if (tasks.Length == 0) continue;
            int best = tasks.Count(t => cells.Where(c => c.Task == t && c.Simulations == sims).Min(c => c.C2stMean) < published.Mean(t, "NPE", sims)!.Value);
            var withFlowMatching = tasks.Where(t => Cell(t, "flow_matching", sims) is not null).ToArray();
            int fm = withFlowMatching.Count(t => Cell(t, "flow_matching", sims)!.C2stMean < published.Mean(t, "NPE", sims)!.Value);
            sb.AppendLine(string.Create(inv, $"- {sims} simulations: our best network beats NPE's published mean on {best} of {tasks.Length} tasks")
                + (withFlowMatching.Length > 0 ? string.Create(inv, $"; flow matching alone on {fm} of {withFlowMatching.Length}.") : "."));
        }

        sb.AppendLine().AppendLine("## Calibration and cost per cell").AppendLine();
        sb.AppendLine(string.Create(inv, $"SBC on {plan.SbcDatasets} simulated datasets × {plan.SbcDraws} draws: whether every parameter's rank ECDF stays inside the 95% simultaneous band, ")
            + "and the largest calibration error (BayesFlow's median |coverage − α|). Training time is the optimizer's wall time (simulation excluded); "
            + "sampling is all observations' draws in one runtime call; scoring includes any reference sampled anew.");
        sb.AppendLine();
        sb.AppendLine("| task | network | simulations | mean C2ST | C2ST per observation | SBC band | calibration error | epochs (best) | best val loss | steps | train s | sample s | score s |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in cells)
        {
            sb.AppendLine(string.Create(inv,
                $"| {c.Task} | {c.Network} | {c.Simulations} | {c.C2stMean:F3} | {string.Join(" ", c.C2st.Select(v => v.ToString("F2", inv)))} | "
                + $"{(c.SbcBandHolds is bool h ? (h ? "holds" : "violated") : "—")} | {F(c.CalibrationError)} | {c.EpochsRun}/{c.MaxEpochs} ({(c.BestEpoch > 0 ? c.BestEpoch.ToString(inv) : "—")}) | "
                + $"{c.BestValidationLoss:F4} | {c.OptimizerSteps} | {c.TrainSeconds:F0} | {c.SampleSeconds:F1} | {c.ScoreSeconds:F1} |"));
        }
        return sb.ToString();
    }
}
