using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>to_array</c>, which turns Python scalars and lists into NumPy arrays. An
/// <see cref="ArrayBatch"/> already holds arrays, so the step only keeps pipelines written for
/// BayesFlow (and their manifests) unchanged.
/// </summary>
internal sealed class ToArrayTransform : AdapterTransform
{
    internal override string Kind => "to_array";

    internal override void Fit(ArrayBatch batch) { }

    internal override void Forward(ArrayBatch batch) { }

    internal override void Inverse(ArrayBatch batch, double[]? logDet) { }

    internal override AdapterStep ToStep() => new() { ToArray = new ToArray() };

    public override string ToString() => "to_array()";
}
