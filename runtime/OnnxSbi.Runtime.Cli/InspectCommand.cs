using System.CommandLine;
using System.Globalization;
using System.Text;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Cli;

/// <summary><c>inspect</c>: what a bundle holds: variables, network, graphs, sampler defaults, training record and metrics.</summary>
internal static class InspectCommand
{
    /// <summary>The verb, its argument and its action.</summary>
    public static Command Create(CliConsole console)
    {
        var path = new Argument<FileInfo>("PATH") { Description = "The .onnxsbi bundle to describe." };
        path.Validators.Add(r =>
        {
            string given = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
            if (!File.Exists(given)) r.AddError($"PATH: file '{given}' does not exist.");
        });
        var command = new Command("inspect", "Prints what a bundle holds: variables, network, graphs, sampler defaults, training record, metrics.") { path };
        command.SetAction(r =>
        {
            using var model = PosteriorModel.Load(r.GetRequiredValue(path).ToString());
            console.Out.WriteLine(Describe(model));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The description <c>inspect</c> prints.</summary>
    internal static string Describe(PosteriorModel model)
    {
        var m = model.Manifest;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"bundle:      {model.SourcePath}");
        sb.AppendLine($"schema:      {m.SchemaVersion}, produced by {m.Producer?.Name} {m.Producer?.Version} at {m.Producer?.CreatedUtc}");
        sb.AppendLine($"description: {m.Description}");
        sb.AppendLine($"network:     {m.Family}");
        sb.AppendLine($"parameters:  {string.Join(", ", m.InferenceVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network D = {m.InferenceDim})");
        sb.AppendLine($"conditions:  {string.Join(", ", m.ConditionVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network C = {m.ConditionDim})");
        sb.AppendLine($"graphs:      {string.Join(", ", m.Graphs.Select(g => $"{g.Role} ({g.Path})"))}");
        switch (m.SamplerCase)
        {
            case BundleManifest.SamplerOneofCase.FlowMatching:
                var f = m.FlowMatching;
                sb.AppendLine(string.Create(inv, $"sampler:     ODE {f.DefaultMethod}, steps {f.DefaultSteps} (fixed-step methods), atol {f.Atol:G3}, rtol {f.Rtol:G3}, min steps {f.MinSteps}, max steps {f.MaxSteps}"));
                break;
            case BundleManifest.SamplerOneofCase.Consistency:
                var c = m.Consistency;
                sb.AppendLine(string.Create(inv, $"sampler:     multistep consistency, default steps {c.DefaultSteps}; T = {c.MaxTime:G4}, eps = {c.Eps:G4}, sigma2 = {c.Sigma2:G4}, s0 = {c.S0}, s1 = {c.S1}, rho = {c.Rho}, total steps {c.TotalSteps}"));
                sb.AppendLine($"             discretizations seen in training: {string.Join(", ", c.TrainedDiscretizations)}");
                break;
            case BundleManifest.SamplerOneofCase.CouplingFlow:
                sb.AppendLine($"sampler:     one pass of the inverse flow ({m.CouplingFlow.Transform}, depth {m.CouplingFlow.Depth}); exact log density available");
                break;
        }
        if (m.Training is { } t)
        {
            sb.AppendLine(string.Create(inv, $"training:    {t.Mode}, {t.Epochs} epochs, {t.OptimizerSteps} steps, {t.NumSimulations} simulations/epoch, {t.Seconds:F1} s"));
            if (t.Loss.Count > 0) sb.AppendLine(string.Create(inv, $"losses:      final loss {t.Loss[^1]:G5}, final validation loss {(t.ValLoss.Count > 0 ? t.ValLoss[^1] : double.NaN):G5}"));
        }
        if (m.Metrics.Count > 0)
        {
            sb.AppendLine("metrics:");
            foreach (var (k, v) in m.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.AppendLine(string.Create(inv, $"  {k,-28} {v:G5}"));
        }
        return sb.ToString().TrimEnd();
    }
}
