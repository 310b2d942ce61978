using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Export;

/// <summary>Everything a bundle records besides the network itself.</summary>
/// <param name="Adapter">The fitted adapter; its constants are frozen into the manifest.</param>
/// <param name="InferenceVariables">User-side parameter variables (e.g. theta [2]).</param>
/// <param name="ConditionVariables">User-side observed variables (e.g. x [2]).</param>
/// <param name="History">The training record.</param>
/// <param name="Configuration">The training configuration, stored as JSON.</param>
/// <param name="Description">One line saying what the model is, for the model card.</param>
/// <param name="Metrics">Final metrics (losses, C2ST, …).</param>
public sealed record BundleDescription(
    Adapter Adapter,
    IReadOnlyList<VariableSpec> InferenceVariables,
    IReadOnlyList<VariableSpec> ConditionVariables,
    TrainingHistory History,
    object Configuration,
    string Description,
    IReadOnlyDictionary<string, double>? Metrics = null);

/// <summary>Writes a trained network as a <c>.onnxsbi</c> bundle: manifest, ONNX graphs and model card, atomically.</summary>
public static class BundleExporter
{
    /// <summary>The producer name written into manifests and ONNX headers.</summary>
    public const string ProducerName = "OnnxSbi.Trainer";

    /// <summary>The producing library's version.</summary>
    public static string ProducerVersion { get; } =
        typeof(BundleExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Exports <paramref name="network"/> to <paramref name="path"/> (written to a temporary file, then renamed).</summary>
    public static BundleManifest Export(string path, PosteriorNetwork network, BundleDescription description)
    {
        network.eval();
        var manifest = new BundleManifest
        {
            SchemaVersion = BundleReader.SchemaVersion,
            Producer = new ProducerInfo
            {
                Name = ProducerName,
                Version = ProducerVersion,
                CreatedUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            },
            Family = network.Family,
            InferenceDim = network.InferenceDim,
            ConditionDim = network.ConditionDim,
            Adapter = description.Adapter.ToSpec(),
            Description = description.Description,
            Training = new TrainingRecord
            {
                ConfigJson = JsonSerializer.Serialize(description.Configuration, description.Configuration.GetType(), JsonOptions),
                OptimizerSteps = description.History.OptimizerSteps,
                Seconds = description.History.Seconds,
                Mode = description.History.Mode,
                NumSimulations = description.History.SimulationsPerEpoch,
                Epochs = description.History.EpochsCompleted,
            },
        };
        manifest.InferenceVariables.Add(description.InferenceVariables);
        manifest.ConditionVariables.Add(description.ConditionVariables);
        manifest.Training.Loss.Add(description.History.Loss);
        manifest.Training.ValLoss.Add(description.History.ValidationLoss.Select(v => double.IsFinite(v) ? v : 0));
        if (description.Metrics is not null) foreach (var (k, v) in description.Metrics) manifest.Metrics[k] = v;
        network.DescribeSampler(manifest);

        var info = new OnnxModelInfo(ProducerName, ProducerVersion, description.Description,
            new Dictionary<string, string> { ["onnxsbi.family"] = network.Family.ToString() });
        var graphs = network.ExportGraphs(info);
        // The exporter's declarations per graph (its residual blocks); BundleWriter fills in the rest of each entry.
        var declared = manifest.Clone();
        declared.Graphs.Add(graphs.Declarations());
        BundleWriter.Write(path, declared, graphs, ModelCard(manifest, description));
        return manifest;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static string ModelCard(BundleManifest m, BundleDescription d)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine($"# {m.Family} posterior — {d.Description}").AppendLine();
        sb.AppendLine("## What it is");
        sb.AppendLine($"An amortized posterior q(θ | x) trained by {ProducerName} {ProducerVersion} ({m.Producer.CreatedUtc}).");
        sb.AppendLine($"- Inference variables: {string.Join(", ", m.InferenceVariables.Select(v => $"`{v.Name}` [{string.Join(", ", v.Shape)}]"))}");
        sb.AppendLine($"- Condition variables: {string.Join(", ", m.ConditionVariables.Select(v => $"`{v.Name}` [{string.Join(", ", v.Shape)}]"))}");
        sb.AppendLine($"- Network-side dimensions: D = {m.InferenceDim}, C = {m.ConditionDim}");
        sb.AppendLine($"- Adapter: {d.Adapter}");
        sb.AppendLine().AppendLine("## How it was trained");
        sb.AppendLine($"- Mode: {m.Training.Mode}, {m.Training.Epochs} epochs, {m.Training.OptimizerSteps} optimizer steps, {m.Training.NumSimulations} simulations per epoch");
        sb.AppendLine(string.Create(inv, $"- Training time: {m.Training.Seconds:F1} s"));
        if (m.Training.Loss.Count > 0)
            sb.AppendLine(string.Create(inv, $"- Final loss: {m.Training.Loss[^1]:G5}; final validation loss: {m.Training.ValLoss[^1]:G5}"));
        sb.AppendLine().AppendLine("Configuration:").AppendLine().AppendLine("```json").AppendLine(m.Training.ConfigJson).AppendLine("```");
        sb.AppendLine().AppendLine("## Metrics");
        if (m.Metrics.Count == 0) sb.AppendLine("None recorded.");
        foreach (var (k, v) in m.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
            sb.AppendLine(string.Create(inv, $"- {k}: {v:G5}"));
        sb.AppendLine().AppendLine("## Use");
        sb.AppendLine("`onnxsbi sample --model THIS_FILE --condition x=0,0 --num-samples 3000 --out draws.csv`, or `PosteriorModel.Load` from OnnxSbi.Runtime.");
        return sb.ToString();
    }
}
