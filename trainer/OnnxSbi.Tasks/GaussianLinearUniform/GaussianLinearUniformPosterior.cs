using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;

namespace OnnxSbi.Tasks;

/// <summary>
/// The exact posterior of <see cref="GaussianLinearUniform"/>: ten independent truncated normals.
/// </summary>
/// <remarks>
/// The prior density is constant on the box [−1, 1]¹⁰ and zero outside, so the posterior is the likelihood
/// restricted to the box: p(θ | x) ∝ N(θ; x, 0.1·I₁₀)·1[θ ∈ [−1, 1]¹⁰]. Both factors are products over the
/// coordinates, so the coordinates are independent, each N(xᵢ, 0.1) truncated to [−1, 1]. sbibm draws θ ~ N(x, 0.1·I)
/// and keeps the draws that land in the box; that yields the same distribution, but its acceptance rate is the
/// product of ten per-coordinate masses and vanishes when x lies near or outside the box. Here each coordinate is
/// drawn from its truncated normal directly (<see cref="TruncatedNormal"/>), which is exact at any finite x.
/// </remarks>
internal static class GaussianLinearUniformPosterior
{
    /// <summary>
    /// <paramref name="draws"/> unique draws, row-major [draws × 10], from a generator seeded by <paramref name="seed"/>;
    /// <paramref name="task"/> names the task in errors. The request is checked by the caller.
    /// </summary>
    public static double[] Sample(SbiTask task, ReadOnlySpan<double> x, int draws, ulong seed)
    {
        double[] mean = x.ToArray();
        double sd = Math.Sqrt(GaussianLinearUniform.NoiseVariance);
        var random = new SimulationRandom(seed);
        return ReferenceDraws.Unique(task, draws, GaussianLinearUniform.Dim, row =>
        {
            for (int d = 0; d < row.Length; d++)
                row[d] = TruncatedNormal.Sample(mean[d], sd, GaussianLinearUniform.PriorLow, GaussianLinearUniform.PriorHigh, random);
        });
    }
}
