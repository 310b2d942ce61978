using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>BayesFlow's <c>drop</c>: removes variables. Not inverted (the values are gone).</summary>
internal sealed class DropTransform(IEnumerable<string> keys) : AdapterTransform
{
    internal IReadOnlyList<string> Keys { get; } = CheckKeys(keys, nameof(keys));

    internal override string Kind => "drop";

    internal override void Fit(ArrayBatch batch)
    {
        foreach (string k in Keys) RequirePresent(batch, k);
    }

    internal override void Forward(ArrayBatch batch)
    {
        foreach (string k in Keys) batch.Remove(k);
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet) { }

    internal override AdapterStep ToStep() => new() { Drop = new Drop { Keys = { Keys } } };

    public override string ToString() => $"drop({Quote(Keys)})";
}
