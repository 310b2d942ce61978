using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>BayesFlow's <c>keep</c>: removes every variable not listed. Not inverted.</summary>
internal sealed class KeepTransform(IEnumerable<string> keys) : AdapterTransform
{
    internal IReadOnlyList<string> Keys { get; } = CheckKeys(keys, nameof(keys));

    internal override string Kind => "keep";

    internal override void Fit(ArrayBatch batch)
    {
        foreach (string k in Keys) RequirePresent(batch, k);
    }

    internal override void Forward(ArrayBatch batch)
    {
        foreach (string name in batch.Names.ToArray())
            if (!Keys.Contains(name)) batch.Remove(name);
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet) { }

    internal override AdapterStep ToStep() => new() { Keep = new Keep { Keys = { Keys } } };

    public override string ToString() => $"keep({Quote(Keys)})";
}
