using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;

namespace OnnxSbi.Tasks;

/// <summary>
/// The exact posterior of <see cref="GaussianMixture"/>: a two-component mixture of box-truncated Gaussians.
/// </summary>
/// <remarks>
/// The likelihood is p(x | θ) = ½·N(x; θ, σ₁²I) + ½·N(x; θ, σ₂²I) with σ₁ = 1, σ₂ = 0.1, symmetric in x and θ, and
/// the prior is flat on the box B = [−10, 10]². Hence
/// p(θ | x) = [½·N(θ; x, σ₁²I) + ½·N(θ; x, σ₂²I)]·1_B(θ) / Z, with Z = ½·P₁ + ½·P₂ and
/// P_k = ∏_{d=1,2} [Φ((10 − x_d)/σ_k) − Φ((−10 − x_d)/σ_k)], the mass N(x, σ_k²I) puts on B. This is the mixture
/// of N(x, σ_k²I) truncated to B with weights w_k = P_k/(P₁ + P₂), and each truncated component factorizes into
/// two independent 1-D truncated normals. sbibm picks k with probability ½, draws N(x, σ_k²I) and keeps draws
/// inside B: a draw is kept with probability ½·P_k for component k, so the kept draws have component weights
/// P_k/(P₁ + P₂) and the truncated component laws, the same distribution as here. Drawing k by w_k and the
/// coordinates from their truncated normals (<see cref="TruncatedNormal"/>) stays exact when x lies so far
/// outside B that rejection would almost never accept.
/// </remarks>
internal static class GaussianMixturePosterior
{
    /// <summary>The weight w₁ of the broad component (σ₁ = 1) at <paramref name="x"/>; w₂ = 1 − w₁.</summary>
    public static double BroadWeight(ReadOnlySpan<double> x)
    {
        double logP1 = LogBoxMass(x, GaussianMixture.ComponentSds[0]);
        double logP2 = LogBoxMass(x, GaussianMixture.ComponentSds[1]);
        // w₁ = P₁/(P₁ + P₂) = 1/(1 + e^(log P₂ − log P₁)), finite when either mass underflows.
        return 1 / (1 + Math.Exp(logP2 - logP1));
    }

    /// <summary>log P_k: the log of the mass N(x, σ²I) puts on the prior box.</summary>
    public static double LogBoxMass(ReadOnlySpan<double> x, double sd)
    {
        double sum = 0;
        foreach (double v in x) sum += TruncatedNormal.LogMass(v, sd, GaussianMixture.PriorLow, GaussianMixture.PriorHigh);
        return sum;
    }

    /// <summary>
    /// <paramref name="draws"/> unique draws, row-major [draws × 2], from a generator seeded by <paramref name="seed"/>;
    /// <paramref name="task"/> names the task in errors. The request is checked by the caller.
    /// </summary>
    /// <exception cref="InvalidRequestException">x is so far from the box (|x| beyond about 10¹⁵⁰) that both masses vanish in log space.</exception>
    public static double[] Sample(SbiTask task, ReadOnlySpan<double> x, int draws, ulong seed)
    {
        double[] mean = x.ToArray();
        double broad = BroadWeight(x);
        if (!double.IsFinite(broad))
            throw new InvalidRequestException($"Observation '{task.ObservationName}' of task '{task.Name}' is too far from the prior box [{GaussianMixture.PriorLow}, {GaussianMixture.PriorHigh}]^2 to weigh the posterior's components; received ({string.Join(", ", mean)}).");
        var random = new SimulationRandom(seed);
        return ReferenceDraws.Unique(task, draws, GaussianMixture.Dim, row =>
        {
            double sd = GaussianMixture.ComponentSds[random.NextDouble() < broad ? 0 : 1];
            for (int d = 0; d < row.Length; d++)
                row[d] = TruncatedNormal.Sample(mean[d], sd, GaussianMixture.PriorLow, GaussianMixture.PriorHigh, random);
        });
    }
}
