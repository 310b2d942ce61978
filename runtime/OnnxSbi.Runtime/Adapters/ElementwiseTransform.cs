namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// A transform applied value by value to a list of variables (log, sqrt, constrain). Subclasses give
/// the forward map, its inverse and the log-derivative of the forward map written in terms of the
/// network-side value, which is what the inverse pass has at hand.
/// </summary>
internal abstract class ElementwiseTransform : AdapterTransform
{
    protected ElementwiseTransform(IEnumerable<string> keys) => Keys = CheckKeys(keys, nameof(keys));

    internal IReadOnlyList<string> Keys { get; }

    /// <summary>The set where the forward map is finite, for messages, e.g. "x > 0".</summary>
    protected abstract string Domain { get; }

    /// <summary>Maps in place; returns the index of the first value with a non-finite image, or -1.</summary>
    protected abstract int ForwardInPlace(Span<double> values);

    /// <summary>Maps back in place; returns the index of the first value with a non-finite image, or -1.</summary>
    protected abstract int InverseInPlace(Span<double> values);

    /// <summary>The forward map of one value (only used to report a failure).</summary>
    protected abstract double ForwardOne(double x);

    /// <summary>The inverse map of one value (only used to report a failure).</summary>
    protected abstract double InverseOne(double y);

    /// <summary>Adds Σ_j log|f'(x_j)| to each row, where x_j = f⁻¹(y_j) and y holds network-side values.</summary>
    protected abstract void AddLogDerivatives(ReadOnlySpan<double> y, int width, Span<double> logDet);

    internal override void Fit(ArrayBatch batch)
    {
        foreach (string key in Keys) RequirePresent(batch, key);
    }

    internal override void Forward(ArrayBatch batch)
    {
        foreach (string key in Keys)
        {
            if (!batch.Contains(key)) continue;
            double[] values = batch.Get(key);
            int bad = ForwardInPlace(values);
            if (bad >= 0)
            {
                double x = values[bad];
                throw new NonFiniteValueException(key, bad / batch.Width(key), ForwardOne(x),
                    $"after {Where}: the input {x} is outside its domain {Domain}");
            }
        }
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet)
    {
        foreach (string key in Keys)
        {
            if (!batch.Contains(key)) continue;
            double[] values = batch.Get(key);
            int width = batch.Width(key);
            if (logDet is not null) AddLogDerivatives(values, width, logDet);
            int bad = InverseInPlace(values);
            if (bad >= 0)
            {
                double y = values[bad];
                throw new NonFiniteValueException(key, bad / width, InverseOne(y),
                    $"after inverting {Where}: the network-side value {y} maps outside the range of doubles");
            }
        }
    }
}
