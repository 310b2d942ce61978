using System.Collections;
using System.Diagnostics.CodeAnalysis;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Trainer.Export;

/// <summary>
/// A network's exported ONNX graphs keyed by role (docs/DESIGN.md), with what the exporter declares about each
/// graph for the manifest: the residual blocks it wrote (<see cref="ResidualBlock"/>), which a runtime may rewrite.
/// </summary>
public sealed class ExportedGraphs : IReadOnlyDictionary<string, ModelProto>
{
    private readonly IReadOnlyDictionary<string, ModelProto> models;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<ResidualBlock>> residualBlocks;

    /// <summary>The graphs <paramref name="models"/>, with the residual blocks declared per role (none when a role is absent).</summary>
    public ExportedGraphs(IReadOnlyDictionary<string, ModelProto> models, IReadOnlyDictionary<string, IReadOnlyList<ResidualBlock>>? residualBlocks = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        this.models = models;
        this.residualBlocks = residualBlocks ?? new Dictionary<string, IReadOnlyList<ResidualBlock>>();
        foreach (string role in this.residualBlocks.Keys)
            if (!models.ContainsKey(role))
                throw new ArgumentException($"Residual blocks are declared for role '{role}', which has no graph; roles: {string.Join(", ", models.Keys)}.", nameof(residualBlocks));
    }

    /// <summary>The residual blocks the exporter wrote into the graph of <paramref name="role"/>.</summary>
    public IReadOnlyList<ResidualBlock> ResidualBlocks(string role) => residualBlocks.TryGetValue(role, out var blocks) ? blocks : [];

    /// <summary>
    /// Manifest graph entries carrying the declarations (role and residual blocks only): BundleWriter fills in the
    /// rest from the graphs and keeps these declarations.
    /// </summary>
    public IEnumerable<GraphEntry> Declarations()
    {
        foreach (string role in models.Keys.Order(StringComparer.Ordinal))
        {
            var entry = new GraphEntry { Role = role };
            entry.ResidualBlocks.Add(ResidualBlocks(role).Select(b => b.Clone()));
            yield return entry;
        }
    }

    /// <inheritdoc />
    public ModelProto this[string key] => models[key];

    /// <inheritdoc />
    public IEnumerable<string> Keys => models.Keys;

    /// <inheritdoc />
    public IEnumerable<ModelProto> Values => models.Values;

    /// <inheritdoc />
    public int Count => models.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => models.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out ModelProto value) => models.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, ModelProto>> GetEnumerator() => models.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
