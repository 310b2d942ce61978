using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Reference;

/// <summary>Settings of <see cref="SliceSampler"/>.</summary>
/// <param name="Chains">Independent chains; each starts from its own prior draws.</param>
/// <param name="WarmupSweeps">Sweeps per chain discarded while the widths and the frame adapt; at least 4.</param>
/// <param name="DrawsPerChain">Kept draws per chain, after thinning.</param>
/// <param name="Thin">Sweeps per kept draw.</param>
/// <param name="InitialCandidates">Prior draws per chain from which the one with the highest posterior density starts the chain.</param>
/// <param name="MaxDegreeOfParallelism">Chains run at once; -1 uses every core. The draws do not depend on it.</param>
internal sealed record SliceOptions(
    int Chains = 4,
    int WarmupSweeps = 300,
    int DrawsPerChain = 2000,
    int Thin = 1,
    int InitialCandidates = 64,
    int MaxDegreeOfParallelism = -1)
{
    /// <summary>Throws <see cref="InvalidRequestException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, string range, int value)
        {
            if (!ok) throw new InvalidRequestException($"Slice sampler option '{name}' must be {range}; received {value}.");
        }
        Require(Chains >= 1, nameof(Chains), "at least 1", Chains);
        Require(WarmupSweeps >= 4, nameof(WarmupSweeps), "at least 4", WarmupSweeps);
        Require(DrawsPerChain >= 4, nameof(DrawsPerChain), "at least 4", DrawsPerChain);
        Require(Thin >= 1, nameof(Thin), "at least 1", Thin);
        Require(InitialCandidates >= 1, nameof(InitialCandidates), "at least 1", InitialCandidates);
        Require(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), "-1 or at least 1", MaxDegreeOfParallelism);
    }
}

/// <summary>The kept draws of a slice-sampling run, per chain, and its cost.</summary>
/// <param name="Parameters">Per chain, the kept draws of θ, row-major [DrawsPerChain × Dim].</param>
/// <param name="Unconstrained">Per chain, the same draws in unconstrained coordinates u.</param>
/// <param name="Sweeps">Sweeps over all chains, warm-up included; a sweep updates every coordinate once.</param>
/// <param name="Evaluations">Posterior density evaluations over all chains, start-up and warm-up included.</param>
internal sealed record SliceRun(double[][] Parameters, double[][] Unconstrained, long Sweeps, long Evaluations)
{
    /// <summary>Every chain's unconstrained draws, concatenated in chain order.</summary>
    public double[] PooledUnconstrained() => [.. Unconstrained.SelectMany(c => c)];

    /// <summary>Every chain's draws of θ, concatenated in chain order.</summary>
    public double[] PooledParameters() => [.. Parameters.SelectMany(c => c)];
}

/// <summary>
/// Univariate slice sampling with stepping out and shrinkage (Neal 2003, "Slice sampling", Ann. Statist. 31(3),
/// §4, figs. 3 and 5), applied in turn along each axis of a linear frame in unconstrained coordinates, in several
/// independent chains.
/// </summary>
/// <remarks>
/// <para>
/// Why coordinate-wise in an adapted frame: each update along a direction v draws a level y = log p(u) − E,
/// E ~ Exp(1), places an interval of width w at random around u, steps it out by w until both ends lie below
/// the level, and samples uniformly from it, shrinking towards u on each rejection. It needs no gradient and no
/// step size that must be right (a poor w costs evaluations, never correctness), which suits ODE likelihoods. Its
/// weakness is strong correlation, which makes axis-wise moves tiny; random directions do not help with that
/// either. So the warm-up estimates the posterior covariance Σ = LLᵀ from all chains and later sweeps move along
/// the columns of L: for a Gaussian posterior these are independent coordinates, and w ≈ 2.5 then matches the
/// slice. Heavier or curved posteriors are still sampled exactly, only more slowly.
/// </para>
/// <para>
/// Schedule: each chain starts at the best of <see cref="SliceOptions.InitialCandidates"/> prior draws. The first
/// half of the warm-up moves along the coordinate axes, each width adapting to three times the running mean step.
/// The pooled draws of all chains' second quarter then set the frame (widths reset to 2.5); the third quarter's
/// draws set it once more, and the widths adapt again during the last quarter. After the warm-up nothing adapts, so the kept draws come from a fixed
/// Markov kernel that leaves the posterior invariant.
/// </para>
/// <para>Deterministic for a seed: chain c draws only from its own stream, whichever thread runs it.</para>
/// </remarks>
internal static class SliceSampler
{
    // Neal's m: the interval grows by at most this many widths in total.
    private const int MaxSteppingOut = 64;

    // Shrinkage steps before an update gives up and stays put (only reached when the level equals the density).
    private const int MaxShrinks = 200;

    // Initial width in a whitened frame: a unit-variance slice at an Exp(1) level below the mode has mean half-width
    // E√(2E) ≈ 1.25.
    private const double WhitenedWidth = 2.5;

    /// <summary>Runs the chains; throws when no chain finds a start with finite posterior density.</summary>
    /// <exception cref="InvalidRequestException">No prior draw of a chain has finite posterior density, or an option is out of range.</exception>
    public static SliceRun Run(PosteriorTarget target, SliceOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int d = target.Dim;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism };
        var chains = new Chain[options.Chains];
        Parallel.For(0, options.Chains, parallel, c => chains[c] = Chain.Start(target, options.InitialCandidates, ReferenceMath.Stream(seed, ReferenceMath.Stage.Chain, (ulong)c)));

        // Warm-up along the axes, then twice in a frame from the pooled draws of the quarter before.
        int quarter = Math.Max(1, options.WarmupSweeps / 4);
        int[] phases = [2 * quarter, quarter, options.WarmupSweeps - 3 * quarter];
        var frame = Identity(d);
        for (int p = 0; p < phases.Length; p++)
        {
            int sweeps = phases[p];
            int recordFrom = p == 0 ? quarter : 0;
            var recorded = new double[options.Chains][];
            var current = frame;
            Parallel.For(0, options.Chains, parallel, c => recorded[c] = chains[c].Sweep(current, sweeps, thin: 1, recordFrom, adapt: true));
            if (p < phases.Length - 1)
            {
                frame = FrameOf([.. recorded.SelectMany(r => r)], d) ?? frame;
                foreach (var chain in chains) chain.ResetWidths(ReferenceEquals(frame, current) ? null : WhitenedWidth);
            }
        }

        var draws = new double[options.Chains][];
        Parallel.For(0, options.Chains, parallel, c => draws[c] = chains[c].Sweep(frame, options.DrawsPerChain * options.Thin, options.Thin, 0, adapt: false));
        var parameters = new double[options.Chains][];
        var theta = new double[d];
        for (int c = 0; c < options.Chains; c++)
        {
            parameters[c] = new double[draws[c].Length];
            for (int i = 0; i < options.DrawsPerChain; i++)
                target.ToParameters(draws[c].AsSpan(i * d, d), parameters[c].AsSpan(i * d, d));
        }
        long sweepsTotal = (long)options.Chains * (options.WarmupSweeps + options.DrawsPerChain * options.Thin);
        return new SliceRun(parameters, draws, sweepsTotal, chains.Sum(c => c.Evaluations));
    }

    private static double[] Identity(int d)
    {
        var l = new double[d * d];
        for (int k = 0; k < d; k++) l[k * d + k] = 1;
        return l;
    }

    /// <summary>The Cholesky factor of the draws' covariance, or null when it is degenerate.</summary>
    private static double[]? FrameOf(double[] rows, int d)
    {
        if (rows.Length < 2 * d) return null;
        var (_, cov) = ReferenceMath.MeanCovariance(rows, d, ridge: 1e-8);
        return ReferenceMath.Cholesky(cov, d);
    }

    /// <summary>One chain's state: position, its log density, widths per frame direction, and its own generator.</summary>
    private sealed class Chain
    {
        private readonly PosteriorTarget _target;
        private readonly SimulationRandom _random;
        private readonly double[] _u;
        private readonly double[] _proposal;
        private readonly double[] _theta;
        private readonly double[] _widths;
        private readonly double[] _initialWidths;
        private double _logDensity;

        private Chain(PosteriorTarget target, SimulationRandom random, double[] u, double logDensity, double[] widths, long evaluations)
        {
            _target = target;
            _random = random;
            _u = u;
            _logDensity = logDensity;
            _widths = widths;
            _initialWidths = [.. widths];
            _proposal = new double[u.Length];
            _theta = new double[u.Length];
            Evaluations = evaluations;
        }

        public long Evaluations { get; private set; }

        /// <summary>
        /// Starts at the candidate with the highest posterior density; the axis widths start at the candidates'
        /// spread in u, the prior's scale.
        /// </summary>
        public static Chain Start(PosteriorTarget target, int candidates, SimulationRandom random)
        {
            int d = target.Dim;
            var theta = new double[d];
            var u = new double[d];
            var best = new double[d];
            var all = new List<double>(candidates * d);
            double bestLog = double.NegativeInfinity;
            for (int i = 0; i < candidates; i++)
            {
                target.SamplePrior(random, theta);
                if (!target.ToUnconstrained(theta, u)) continue;
                all.AddRange(u);
                double logPosterior = target.Evaluate(u, theta).LogPosterior;
                if (logPosterior > bestLog)
                {
                    bestLog = logPosterior;
                    u.CopyTo(best, 0);
                }
            }
            if (!double.IsFinite(bestLog))
                throw new InvalidRequestException($"None of {candidates} prior draws has a finite posterior density: the observation is impossible under the prior, or the likelihood fails everywhere.");
            var widths = new double[d];
            var spread = all.Count >= 2 * d ? ReferenceMath.MeanCovariance(all.ToArray(), d, 0).Covariance : null;
            for (int k = 0; k < d; k++)
            {
                double sd = spread is null ? 1 : Math.Sqrt(spread[k * d + k]);
                widths[k] = sd > 0 && double.IsFinite(sd) ? sd : 1;
            }
            return new Chain(target, random, best, bestLog, widths, candidates);
        }

        /// <summary>Resets the widths: to <paramref name="width"/> each (a new whitened frame), or to the start's.</summary>
        public void ResetWidths(double? width)
        {
            for (int k = 0; k < _widths.Length; k++) _widths[k] = width ?? _initialWidths[k];
        }

        /// <summary>
        /// Runs <paramref name="sweeps"/> sweeps along the columns of <paramref name="frame"/> and returns every
        /// <paramref name="thin"/>-th state from sweep <paramref name="recordFrom"/> on, row-major.
        /// </summary>
        public double[] Sweep(double[] frame, int sweeps, int thin, int recordFrom, bool adapt)
        {
            int d = _u.Length;
            var kept = new double[(sweeps - recordFrom) / thin * d];
            var direction = new double[d];
            var meanStep = new double[d];
            var steps = new int[d];
            int row = 0;
            for (int s = 0; s < sweeps; s++)
            {
                for (int k = 0; k < d; k++)
                {
                    for (int j = 0; j < d; j++) direction[j] = frame[j * d + k];
                    double t = Update(direction, _widths[k]);
                    if (adapt)
                    {
                        // A uniform point of an interval lies on average a third of its length from another
                        // uniform point, so 3·E|step| estimates the slice's length, the width Neal recommends.
                        steps[k]++;
                        meanStep[k] += (Math.Abs(t) - meanStep[k]) / steps[k];
                        if (meanStep[k] > 0) _widths[k] = 3 * meanStep[k];
                    }
                }
                if (s >= recordFrom && (s - recordFrom + 1) % thin == 0 && row < kept.Length / d)
                    _u.CopyTo(kept, d * row++);
            }
            return kept;
        }

        /// <summary>One slice-sampling update of u along u + t·v (Neal 2003, figs. 3 and 5); returns t.</summary>
        private double Update(double[] direction, double width)
        {
            double level = _logDensity - _random.NextExponential();
            double left = -width * _random.NextDouble();
            double right = left + width;
            int stepsLeft = (int)Math.Floor(MaxSteppingOut * _random.NextDouble());
            int stepsRight = MaxSteppingOut - 1 - stepsLeft;
            while (stepsLeft-- > 0 && LogDensityAt(direction, left) > level) left -= width;
            while (stepsRight-- > 0 && LogDensityAt(direction, right) > level) right += width;
            for (int shrink = 0; shrink < MaxShrinks; shrink++)
            {
                double t = left + (right - left) * _random.NextDouble();
                double logDensity = LogDensityAt(direction, t);
                if (logDensity > level)
                {
                    for (int j = 0; j < _u.Length; j++) _u[j] += t * direction[j];
                    _logDensity = logDensity;
                    return t;
                }
                if (t < 0) left = t;
                else right = t;
            }
            return 0;
        }

        private double LogDensityAt(double[] direction, double t)
        {
            for (int j = 0; j < _u.Length; j++) _proposal[j] = _u[j] + t * direction[j];
            Evaluations++;
            return _target.Evaluate(_proposal, _theta).LogPosterior;
        }
    }
}
