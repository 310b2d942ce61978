using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// The reference posterior of SLCP (docs/reference-posteriors.md): the exact likelihood is sampled with the
/// reference sampler on the orthant θ3, θ4 ≥ 0, and each draw's θ3 and θ4 then get independent random signs.
/// </summary>
/// <remarks>
/// The prior and the likelihood are invariant under θ3 → −θ3 and θ4 → −θ4, so the posterior is the folded
/// posterior (the orthant's, which has one of the four modes) spread evenly over the four sign patterns: the
/// flipped draws are exact draws of the full posterior, with every mode covered in equal share, where chains
/// over the whole box would have to hop between modes separated by the spikes at θ3 = 0 and θ4 = 0.
/// </remarks>
internal static class SlcpPosterior
{
    /// <summary>Draws of p(θ | x) at <paramref name="observation"/> with the run's diagnostics (of the folded chains).</summary>
    public static ReferenceRun Sample(ReadOnlySpan<double> observation, int draws, ulong seed, ReferenceOptions? options = null)
    {
        var run = ReferenceSampler.Sample(new FoldedTarget(observation), draws, seed, options);
        var random = ReferenceMath.Stream(seed, ReferenceMath.Stage.Symmetry, 0);
        double[] flipped = (double[])run.Draws.Clone();
        for (int i = 0; i < run.Count; i++)
        {
            ulong bits = random.NextUInt64();
            if ((bits & 1) != 0) flipped[i * Slcp.ParameterDim + 2] *= -1;
            if ((bits & 2) != 0) flipped[i * Slcp.ParameterDim + 3] *= -1;
        }
        return run with { Draws = flipped };
    }

    /// <summary>The posterior restricted to θ3, θ4 ≥ 0; its prior is uniform on [−3, 3]³ × [0, 3]² (density 1/(6³·3²)).</summary>
    internal sealed class FoldedTarget(ReadOnlySpan<double> observation) : PosteriorTarget(FoldedSupports)
    {
        private static readonly ParameterSupport Full = ParameterSupport.Interval(-Slcp.PriorBound, Slcp.PriorBound);
        private static readonly ParameterSupport Half = ParameterSupport.Interval(0, Slcp.PriorBound);
        private static readonly ParameterSupport[] FoldedSupports = [Full, Full, Half, Half, Full];
        private static readonly double LogDensity = -3 * Math.Log(2 * Slcp.PriorBound) - 2 * Math.Log(Slcp.PriorBound);

        private readonly double[] _observation = observation.ToArray();

        public override double LogPrior(ReadOnlySpan<double> theta)
        {
            for (int k = 0; k < Slcp.ParameterDim; k++)
            {
                if (!(theta[k] >= FoldedSupports[k].Lower && theta[k] <= FoldedSupports[k].Upper)) return double.NegativeInfinity;
            }
            return LogDensity;
        }

        public override void SamplePrior(SimulationRandom random, Span<double> theta)
        {
            for (int k = 0; k < Slcp.ParameterDim; k++) theta[k] = random.NextUniform(FoldedSupports[k].Lower, FoldedSupports[k].Upper);
        }

        public override double LogLikelihood(ReadOnlySpan<double> theta) => Slcp.LogLikelihood(theta, _observation);
    }
}
