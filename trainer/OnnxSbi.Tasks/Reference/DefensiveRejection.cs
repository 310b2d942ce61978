using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Reference;

/// <summary>Settings of <see cref="DefensiveRejection"/>.</summary>
/// <param name="PriorWeight">The prior's weight in the proposal q = w·prior + (1 − w)·mixture (sbibm: 0.1); in (0, 1).</param>
/// <param name="MaxComponents">Most Student-t components the proposal may use; BIC picks the number.</param>
/// <param name="PriorCandidates">Prior draws on which the log ratio is evaluated when searching its maximum.</param>
/// <param name="Starts">Nelder–Mead starts of that search taken from each source: the MCMC draws and the prior draws with the highest ratios.</param>
/// <param name="EvaluationsPerDimension">Nelder–Mead evaluations per start, per parameter dimension.</param>
/// <param name="BoundFactor">The factor on the largest ratio found that gives M (sbibm: 1.2); at least 1.</param>
/// <param name="MaxProposals">Proposals after which sampling gives up, reporting the acceptance rate.</param>
/// <param name="MaxDegreeOfParallelism">Threads; -1 uses every core. The draws do not depend on it.</param>
internal sealed record RejectionOptions(
    double PriorWeight = 0.1,
    int MaxComponents = 6,
    int PriorCandidates = 10_000,
    int Starts = 16,
    int EvaluationsPerDimension = 200,
    double BoundFactor = 1.2,
    long MaxProposals = 200_000_000,
    int MaxDegreeOfParallelism = -1)
{
    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, string range, object value)
        {
            if (!ok) throw new InvalidRequestException($"Rejection option '{name}' must be {range}; received {value}.");
        }
        Require(PriorWeight > 0 && PriorWeight < 1, nameof(PriorWeight), "in (0, 1)", PriorWeight);
        Require(MaxComponents >= 1, nameof(MaxComponents), "at least 1", MaxComponents);
        Require(PriorCandidates >= 1, nameof(PriorCandidates), "at least 1", PriorCandidates);
        Require(Starts >= 1, nameof(Starts), "at least 1", Starts);
        Require(EvaluationsPerDimension >= 10, nameof(EvaluationsPerDimension), "at least 10", EvaluationsPerDimension);
        Require(BoundFactor >= 1 && double.IsFinite(BoundFactor), nameof(BoundFactor), "a finite number >= 1", BoundFactor);
        Require(MaxProposals >= 1, nameof(MaxProposals), "at least 1", MaxProposals);
        Require(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), "-1 or at least 1", MaxDegreeOfParallelism);
    }
}

/// <summary>
/// Exact, unique posterior draws from approximate ones by rejection (the step sbibm runs after its MCMC or
/// importance resampling; docs/reference-posteriors.md): the proposal q(u) = w·prior(u) + (1 − w)·t-mixture(u),
/// fitted to the approximate draws in proposal coordinates v (<see cref="ParameterSupport.ToProposal"/>), is accepted with probability p̃(u)/(M·q(u)).
/// </summary>
/// <remarks>
/// <para>
/// The prior part keeps p̃/q ≤ likelihood/w, so the ratio is bounded wherever the likelihood is, even in regions
/// the MCMC never visited. log M is the largest log ratio found by evaluating it on the MCMC draws and on prior
/// draws and climbing from the best of each with Nelder–Mead, plus log <see cref="RejectionOptions.BoundFactor"/>.
/// That makes a violated bound unlikely but cannot prove it, so every proposal whose ratio exceeds M is counted
/// (it is accepted with probability 1, one over-represented draw).
/// </para>
/// <para>Deterministic for a seed: proposals come in chunks, each with its own stream, consumed in order.</para>
/// </remarks>
internal static class DefensiveRejection
{
    private const int ChunkProposals = 1024;

    /// <summary>
    /// Draws <paramref name="count"/> parameter vectors, row-major, given approximate posterior draws of θ
    /// <paramref name="approximate"/> (row-major).
    /// </summary>
    /// <exception cref="InvalidRequestException">More than <see cref="RejectionOptions.MaxProposals"/> proposals were needed.</exception>
    public static (double[] Draws, RejectionStatistics Statistics) Sample(PosteriorTarget target, double[] approximate, int count, ulong seed, RejectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int d = target.Dim;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism };
        var coordinates = new double[approximate.Length];
        int rows = approximate.Length / d, valid = 0;
        for (int i = 0; i < rows; i++)
        {
            if (target.ToProposal(approximate.AsSpan(i * d, d), coordinates.AsSpan(valid * d, d))) valid++;
        }
        coordinates = coordinates[..(valid * d)];
        var proposal = new Proposal(target, StudentTMixture.Fit(coordinates, d, options.MaxComponents, seed), options.PriorWeight);
        var (logBound, boundEvaluations) = FindLogBound(proposal, coordinates, seed, options, parallel);
        logBound += Math.Log(options.BoundFactor);

        var result = new double[count * d];
        int filled = 0;
        long chunk = 0, proposals = 0, accepted = 0, exceedances = 0;
        while (filled < count)
        {
            if (proposals >= options.MaxProposals)
            {
                throw new InvalidRequestException(
                    $"Rejection sampling of the reference posterior stopped after {proposals} proposals with {accepted} accepted " +
                    $"({count} requested): the posterior is too far from its proposal (log M = {logBound:G4}).");
            }
            // Size the batch from the acceptance rate so far; only speed depends on it, since chunks are
            // consumed in order and draws past the count are discarded.
            double rate = proposals == 0 ? 0 : (double)accepted / proposals;
            long wanted = rate > 0 ? (long)Math.Ceiling(1.2 * (count - filled) / (rate * ChunkProposals)) : 2L * parallel.MaxDegreeOfParallelism;
            int batch = (int)Math.Clamp(wanted, parallel.MaxDegreeOfParallelism, 256);
            var chunks = new (List<double> Draws, int Exceedances)[batch];
            long first = chunk;
            Parallel.For(0, batch, parallel, i => chunks[i] = RunChunk(proposal, logBound, ReferenceMath.Stream(seed, ReferenceMath.Stage.Rejection, (ulong)(first + i))));
            foreach (var (draws, exceeded) in chunks)
            {
                // Counted per consumed chunk, so that the statistics, like the draws, do not depend on the batch size.
                proposals += ChunkProposals;
                accepted += draws.Count / d;
                exceedances += exceeded;
                int take = Math.Min(draws.Count, d * (count - filled));
                draws.CopyTo(0, result, d * filled, take);
                filled += take / d;
                if (filled == count) break;
            }
            chunk += batch;
        }
        return (result, new RejectionStatistics(proposal.Components, logBound, boundEvaluations, proposals, accepted, exceedances));
    }

    /// <summary>The largest log ratio found, and the number of ratio evaluations the search took.</summary>
    private static (double LogBound, long Evaluations) FindLogBound(Proposal proposal, double[] coordinates, ulong seed, RejectionOptions options, ParallelOptions parallel)
    {
        var target = proposal.Target;
        int d = target.Dim;
        int n = coordinates.Length / d;
        var mcmcRatios = new double[n];
        Parallel.For(0, n, parallel, () => new double[d], (i, _, theta) =>
        {
            mcmcRatios[i] = proposal.LogRatio(coordinates.AsSpan(i * d, d), theta);
            return theta;
        }, _ => { });

        var priorPoints = new double[options.PriorCandidates * d];
        var priorRatios = new double[options.PriorCandidates];
        int perChunk = ChunkProposals;
        int priorChunks = (options.PriorCandidates + perChunk - 1) / perChunk;
        Parallel.For(0, priorChunks, parallel, c =>
        {
            var random = ReferenceMath.Stream(seed, ReferenceMath.Stage.Bound, (ulong)c);
            var theta = new double[d];
            for (int i = c * perChunk; i < Math.Min(options.PriorCandidates, (c + 1) * perChunk); i++)
            {
                var u = priorPoints.AsSpan(i * d, d);
                target.SamplePrior(random, theta);
                priorRatios[i] = target.ToProposal(theta, u) ? proposal.LogRatio(u, theta) : double.NegativeInfinity;
            }
        });

        var starts = Best(mcmcRatios, options.Starts).Select(i => coordinates.AsSpan(i * d, d).ToArray())
            .Concat(Best(priorRatios, options.Starts).Select(i => priorPoints.AsSpan(i * d, d).ToArray())).ToArray();
        var (_, cov) = ReferenceMath.MeanCovariance(coordinates, d, 0);
        var steps = Enumerable.Range(0, d).Select(k => cov[k * d + k] > 0 ? 0.1 * Math.Sqrt(cov[k * d + k]) : 0.1).ToArray();
        int budget = options.EvaluationsPerDimension * d;
        var climbed = new double[starts.Length];
        Parallel.For(0, starts.Length, parallel, s =>
        {
            var theta = new double[d];
            climbed[s] = NelderMead.Maximize(u => proposal.LogRatio(u, theta), starts[s], steps, budget).Value;
        });
        double best = new[] { mcmcRatios.Max(), priorRatios.Max(), climbed.Length > 0 ? climbed.Max() : double.NegativeInfinity }.Max();
        if (!double.IsFinite(best))
            throw new InvalidRequestException("The rejection bound is not finite: no evaluated point has a finite posterior density, or the density is unbounded.");
        // Nelder–Mead may stop early when the simplex converges; the budget is an upper bound on its evaluations.
        return (best, n + options.PriorCandidates + (long)starts.Length * budget);
    }

    private static IEnumerable<int> Best(double[] values, int count)
        => Enumerable.Range(0, values.Length).Where(i => double.IsFinite(values[i])).OrderByDescending(i => values[i]).Take(count);

    private static (List<double> Draws, int Exceedances) RunChunk(Proposal proposal, double logBound, SimulationRandom random)
    {
        int d = proposal.Target.Dim;
        var u = new double[d];
        var theta = new double[d];
        var draws = new List<double>();
        int exceedances = 0;
        for (int i = 0; i < ChunkProposals; i++)
        {
            bool valid = proposal.Sample(random, u, theta);
            double logU = Math.Log(random.NextDouble());
            if (!valid) continue;
            double logRatio = proposal.LogRatio(u, theta);
            if (logRatio > logBound) exceedances++;
            if (logU < logRatio - logBound) draws.AddRange(theta);
        }
        return (draws, exceedances);
    }

    /// <summary>q(v) = w·prior(v) + (1 − w)·mixture(v) in proposal coordinates, and the log ratio log p̃(v) − log q(v).</summary>
    private sealed class Proposal(PosteriorTarget target, StudentTMixture mixture, double priorWeight)
    {
        private readonly double _logPriorWeight = Math.Log(priorWeight);
        private readonly double _logMixtureWeight = Math.Log(1 - priorWeight);

        public PosteriorTarget Target => target;

        public int Components => mixture.Components;

        /// <summary>log p̃(v) − log q(v), with θ(v) written to <paramref name="theta"/>; −∞ outside the support.</summary>
        public double LogRatio(ReadOnlySpan<double> u, Span<double> theta)
        {
            var (logPrior, logPosterior) = target.EvaluateProposal(u, theta);
            if (logPosterior == double.NegativeInfinity) return double.NegativeInfinity;
            double logQ = ReferenceMath.LogAddExp(_logPriorWeight + logPrior, _logMixtureWeight + mixture.LogDensity(u));
            return logPosterior - logQ;
        }

        /// <summary>
        /// One draw of q into <paramref name="u"/>; false for a prior draw on the boundary of a half-bounded support,
        /// which has no finite v (probability about 2⁻⁵³) and is dropped as a rejection.
        /// </summary>
        public bool Sample(SimulationRandom random, Span<double> u, Span<double> theta)
        {
            if (random.NextDouble() < priorWeight)
            {
                target.SamplePrior(random, theta);
                return target.ToProposal(theta, u);
            }
            mixture.Sample(random, u);
            return true;
        }
    }
}

/// <summary>What the rejection step did: its proposal, bound and counts.</summary>
/// <param name="Components">Student-t components of the proposal.</param>
/// <param name="LogBound">log M, the bound on log p̃/q that acceptance uses.</param>
/// <param name="BoundEvaluations">Ratio evaluations the search for M was allowed (its upper bound).</param>
/// <param name="Proposals">Proposals drawn.</param>
/// <param name="Accepted">Proposals accepted.</param>
/// <param name="Exceedances">Proposals whose ratio exceeded M (each accepted with probability 1).</param>
internal sealed record RejectionStatistics(int Components, double LogBound, long BoundEvaluations, long Proposals, long Accepted, long Exceedances);
