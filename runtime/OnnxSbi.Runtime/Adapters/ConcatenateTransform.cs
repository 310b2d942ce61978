using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>concatenate</c>: joins variables along the last axis into one, row by row. Each
/// variable's per-sample shape is flattened to its width; the widths are recorded at fit (or first use)
/// so that the inverse can split the result again. The pieces come back with flat shapes [width].
/// </summary>
internal sealed class ConcatenateTransform : AdapterTransform
{
    private int[]? _widths;

    internal ConcatenateTransform(IEnumerable<string> keys, string into, IReadOnlyList<long>? widths = null)
    {
        Keys = CheckKeys(keys, nameof(keys));
        ArgumentException.ThrowIfNullOrEmpty(into);
        Into = into;
        if (widths is { Count: > 0 })
        {
            if (widths.Count != Keys.Count)
                throw new ArgumentException($"Concatenate into '{into}' has {Keys.Count} keys but {widths.Count} widths.", nameof(widths));
            if (widths.Any(w => w < 0 || w > int.MaxValue))
                throw new ArgumentException($"Concatenate into '{into}' has an invalid width in [{string.Join(", ", widths)}].", nameof(widths));
            _widths = [.. widths.Select(w => (int)w)];
        }
    }

    internal IReadOnlyList<string> Keys { get; }

    internal string Into { get; }

    /// <summary>True once the widths are known.</summary>
    internal bool HasWidths => _widths is not null;

    internal override string Kind => "concatenate";

    internal override void Fit(ArrayBatch batch)
    {
        foreach (string k in Keys) RequirePresent(batch, k);
    }

    internal override void Forward(ArrayBatch batch)
    {
        int present = Keys.Count(batch.Contains);
        if (present == 0) return;
        if (present < Keys.Count)
        {
            string missing = Keys.First(k => !batch.Contains(k));
            throw new UnknownVariableException(missing, batch.Names, $"variable for '{Into}' in {Where} (the other keys are present)");
        }
        if (batch.Contains(Into) && !Keys.Contains(Into))
            throw new OnnxSbiException($"{WhereStart} cannot concatenate into '{Into}': a variable of that name already exists.");

        var widths = new int[Keys.Count];
        for (int k = 0; k < widths.Length; k++)
        {
            widths[k] = batch.Width(Keys[k]);
            if (_widths is not null && _widths[k] != widths[k])
                throw new ShapeMismatchException(Keys[k], $"[N, {_widths[k]}] (as when {Where} was fitted)", $"[N, {widths[k]}]");
        }
        _widths ??= widths;

        int rows = batch.Rows;
        int total = widths.Sum();
        var joined = new double[(long)rows * total];
        for (int k = 0, offset = 0; k < widths.Length; offset += widths[k], k++)
        {
            double[] src = batch.Get(Keys[k]);
            int w = widths[k];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < w; j++) joined[r * total + offset + j] = src[r * w + j];
        }
        foreach (string k in Keys) batch.Remove(k);
        batch.Set(Into, joined, total);
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet)
    {
        if (!batch.Contains(Into)) return;
        int[] widths = _widths ?? throw new OnnxSbiException(
            $"{WhereStart} cannot split '{Into}': the widths of {Quote(Keys)} are unknown until Adapter.Fit or Adapter.Forward has seen them.");
        int total = widths.Sum();
        int received = batch.Width(Into);
        if (received != total)
            throw new ShapeMismatchException(Into, $"[N, {total}] (the widths [{string.Join(", ", widths)}] of {Quote(Keys)})", $"[N, {received}]");
        foreach (string k in Keys)
            if (k != Into && batch.Contains(k))
                throw new OnnxSbiException($"{WhereStart} cannot split '{Into}' back into '{k}': a variable named '{k}' already exists.");

        double[] joined = batch.Get(Into);
        int rows = batch.Rows;
        batch.Remove(Into);
        for (int k = 0, offset = 0; k < widths.Length; offset += widths[k], k++)
        {
            int w = widths[k];
            var part = new double[(long)rows * w];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < w; j++) part[r * w + j] = joined[r * total + offset + j];
            batch.Set(Keys[k], part, w);
        }
    }

    internal override AdapterStep ToStep()
    {
        var step = new Concatenate { Keys = { Keys }, Into = Into };
        if (_widths is not null) step.Widths.AddRange(_widths.Select(w => (long)w));
        return new AdapterStep { Concatenate = step };
    }

    public override string ToString()
        => $"concatenate({Quote(Keys)} -> '{Into}'{(_widths is null ? "" : $", widths [{string.Join(", ", _widths)}]")})";
}
