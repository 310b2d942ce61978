using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>BayesFlow's <c>rename</c>; the inverse renames back.</summary>
internal sealed class RenameTransform : AdapterTransform
{
    internal RenameTransform(string from, string to)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        if (from == to) throw new ArgumentException($"Renaming '{from}' to itself does nothing.", nameof(to));
        From = from;
        To = to;
    }

    internal string From { get; }

    internal string To { get; }

    internal override string Kind => "rename";

    internal override void Fit(ArrayBatch batch) => RequirePresent(batch, From);

    internal override void Forward(ArrayBatch batch) => Move(batch, From, To);

    internal override void Inverse(ArrayBatch batch, double[]? logDet) => Move(batch, To, From);

    private void Move(ArrayBatch batch, string from, string to)
    {
        if (!batch.Contains(from)) return;
        if (batch.Contains(to))
            throw new OnnxSbiException($"{WhereStart} cannot rename '{from}' to '{to}': a variable named '{to}' already exists.");
        batch.Rename(from, to);
    }

    internal override AdapterStep ToStep() => new() { Rename = new Rename { From = From, To = To } };

    public override string ToString() => $"rename('{From}' -> '{To}')";
}
