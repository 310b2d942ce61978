using System.CommandLine;
using System.Globalization;
using System.Text;

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
        var runtime = new RuntimeOptionSet(sampling: true);
        var command = new Command("inspect",
            "Prints what a bundle holds (variables, network, graphs, sampler defaults, training record, metrics) and the plan " +
            "loading compiles it into under the given runtime options (graph passes applied, block layout, provider, precision, execution strategy).") { path };
        runtime.AddTo(command);
        command.SetAction(r =>
        {
            using var model = BundleLoader.Load(r.GetRequiredValue(path).ToString(), runtime.Read(r), console);
            console.Out.WriteLine(Describe(model));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The description <c>inspect</c> prints.</summary>
    internal static string Describe(PosteriorModel model)
    {
        var m = model.Description;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"bundle:      {model.SourcePath}");
        sb.AppendLine($"produced by: {m.Producer} at {m.CreatedUtc}");
        sb.AppendLine($"description: {m.Description}");
        sb.AppendLine($"network:     {m.Family}");
        sb.AppendLine($"parameters:  {string.Join(", ", m.InferenceVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network D = {m.InferenceDim})");
        sb.AppendLine($"conditions:  {string.Join(", ", m.ConditionVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network C = {m.ConditionDim})");
        sb.AppendLine($"graphs:      {string.Join(", ", m.GraphRoles)}");
        if (m.FlowMatching is { } f)
            sb.AppendLine(string.Create(inv, $"sampler:     ODE {f.Method}, steps {f.Steps} (fixed-step methods), atol {f.Atol:G3}, rtol {f.Rtol:G3}, min steps {f.MinSteps}, max steps {f.MaxSteps}"));
        if (m.Consistency is { } c)
        {
            sb.AppendLine(string.Create(inv, $"sampler:     multistep consistency, default steps {c.DefaultSteps}; T = {c.MaxTime:G4}, eps = {c.Eps:G4}, rho = {c.Rho}"));
            sb.AppendLine($"             discretizations seen in training: {string.Join(", ", c.TrainedDiscretizations)}");
        }
        if (m.CouplingFlow is { } cf)
            sb.AppendLine($"sampler:     one pass of the inverse flow ({cf.Transform}, depth {cf.Depth}, {cf.InverseSteps} inverse steps declared); exact log density available");
        if (m.Training is { } t)
        {
            sb.AppendLine(string.Create(inv, $"training:    {t.Mode}, {t.Epochs} epochs, {t.OptimizerSteps} steps, {t.SimulationsPerEpoch} simulations/epoch, {t.Seconds:F1} s"));
            if (t.Loss.Count > 0) sb.AppendLine(string.Create(inv, $"losses:      final loss {t.Loss[^1]:G5}, final validation loss {(t.ValidationLoss.Count > 0 ? t.ValidationLoss[^1] : double.NaN):G5}"));
        }
        if (m.Metrics.Count > 0)
        {
            sb.AppendLine("metrics:");
            foreach (var (k, v) in m.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.AppendLine(string.Create(inv, $"  {k,-28} {v:G5}"));
        }
        sb.AppendLine("plan:");
        foreach (string line in model.Plan.Describe().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            sb.AppendLine("  " + line.TrimEnd('\r'));
        return sb.ToString().TrimEnd();
    }
}
