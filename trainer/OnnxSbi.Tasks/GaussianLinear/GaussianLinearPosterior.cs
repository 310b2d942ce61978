using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// The exact posterior of <see cref="GaussianLinear"/>, a conjugate Gaussian.
/// </summary>
/// <remarks>
/// With prior N(μ₀, Σ₀) and likelihood N(x; θ, Σ), the log posterior is, up to a constant,
/// −½·θᵀΣ₀⁻¹θ + θᵀΣ₀⁻¹μ₀ − ½·θᵀΣ⁻¹θ + θᵀΣ⁻¹x = −½·θᵀ(Σ₀⁻¹ + Σ⁻¹)θ + θᵀ(Σ⁻¹x + Σ₀⁻¹μ₀), a quadratic in θ.
/// Completing the square gives a Gaussian with precision Σₚ⁻¹ = Σ₀⁻¹ + Σ⁻¹ and mean μₚ = Σₚ·(Σ⁻¹x + Σ₀⁻¹μ₀).
/// Here μ₀ = 0 and Σ₀ = Σ = 0.1·I₁₀, so Σₚ = (10·I + 10·I)⁻¹ = 0.05·I₁₀ and μₚ = 0.05·10·x = x/2:
/// θ | x ~ N(x/2, 0.05·I₁₀), whose draws are iid (sbibm draws them the same way).
/// </remarks>
internal static class GaussianLinearPosterior
{
    /// <summary>Each coordinate's posterior variance, s₀·s/(s₀ + s) for prior variance s₀ and noise variance s.</summary>
    public const double Variance = GaussianLinear.PriorVariance * GaussianLinear.NoiseVariance / (GaussianLinear.PriorVariance + GaussianLinear.NoiseVariance);

    /// <summary>The posterior mean's gain on x, s₀/(s₀ + s), so that μₚ = <see cref="Shrinkage"/>·x.</summary>
    public const double Shrinkage = GaussianLinear.PriorVariance / (GaussianLinear.PriorVariance + GaussianLinear.NoiseVariance);

    /// <summary>
    /// <paramref name="draws"/> unique iid draws of N(x/2, 0.05·I₁₀), row-major [draws × 10], from a generator
    /// seeded by <paramref name="seed"/>; <paramref name="task"/> names the task in errors. The request is checked
    /// by the caller.
    /// </summary>
    public static double[] Sample(SbiTask task, ReadOnlySpan<double> x, int draws, ulong seed)
    {
        double[] mean = x.ToArray();
        for (int d = 0; d < mean.Length; d++) mean[d] *= Shrinkage;
        double sd = Math.Sqrt(Variance);
        var random = new SimulationRandom(seed);
        return ReferenceDraws.Unique(task, draws, GaussianLinear.Dim, row =>
        {
            for (int d = 0; d < row.Length; d++) row[d] = random.NextNormal(mean[d], sd);
        });
    }
}
