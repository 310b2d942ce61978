namespace OnnxSbi.Tasks.Ode;

/// <summary>Batch plumbing shared by the ODE tasks: shape checks and the row-parallel solve.</summary>
internal static class OdeRows
{
    private static readonly ParallelOptions Parallelism = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>Throws unless a vector named <paramref name="name"/> has length <paramref name="expected"/>.</summary>
    public static void CheckLength(int length, int expected, string name, string task)
    {
        if (length != expected)
            throw new ArgumentException($"{task}: '{name}' must have length {expected}; received {length}.", name);
    }

    /// <summary>The number of rows of a batch θ [rows × dθ] → x [rows × dx], or an error naming both shapes.</summary>
    public static int CheckBatch(int thetaLength, int thetaDim, int xLength, int xDim, string task)
    {
        if (thetaLength % thetaDim != 0)
            throw new ArgumentException($"{task}: 'theta' must have shape [rows × {thetaDim}]; received length {thetaLength}.", "theta");
        int rows = thetaLength / thetaDim;
        if (xLength != rows * xDim)
            throw new ArgumentException($"{task}: 'x' must have shape [{rows} × {xDim}] = {rows * xDim} to match 'theta'; received length {xLength}.", "x");
        return rows;
    }

    /// <summary>
    /// Runs <paramref name="solveRow"/> for every row, in parallel on at most one thread per core. Each solve
    /// only writes its own row, so the result does not depend on the scheduling.
    /// </summary>
    public static void ForEachRow(int rows, Action<int> solveRow)
    {
        if (rows == 1) solveRow(0);
        else if (rows > 1) Parallel.For(0, rows, Parallelism, solveRow);
    }
}

/// <summary>
/// A task's fixed test observations: for seeds s = base, base + 1, …, the one-row draw (θ*, x) from a fresh
/// generator seeded with s, kept when it passes the task's rule, until ten are kept.
/// </summary>
internal sealed class OdeTestSet
{
    private const int Count = 10;
    private const int MaxSeedsTried = 1000;

    private OdeTestSet(double[] parameters, double[] observations, ulong[] seeds)
    {
        Parameters = parameters;
        Observations = observations;
        Seeds = seeds;
    }

    /// <summary>θ* per kept seed, row-major [10 × dθ].</summary>
    public double[] Parameters { get; }

    /// <summary>x per kept seed, row-major [10 × dx].</summary>
    public double[] Observations { get; }

    /// <summary>The kept seeds, in order.</summary>
    public ulong[] Seeds { get; }

    /// <summary>Draws one (θ, x) pair per seed with <paramref name="draw"/> and keeps those <paramref name="accept"/> passes.</summary>
    public static OdeTestSet Build(int thetaDim, int xDim, ulong seedBase, Func<ulong, (double[] Theta, double[] X)> draw,
        Func<double[], double[], bool> accept)
    {
        var parameters = new double[Count * thetaDim];
        var observations = new double[Count * xDim];
        var seeds = new ulong[Count];
        int kept = 0;
        for (ulong s = seedBase; kept < Count; s++)
        {
            if (s - seedBase >= MaxSeedsTried)
                throw new InvalidOperationException($"Only {kept} of {Count} test observations passed the rule in seeds {seedBase}…{s - 1}.");
            var (theta, x) = draw(s);
            if (!accept(theta, x)) continue;
            theta.CopyTo(parameters, kept * thetaDim);
            x.CopyTo(observations, kept * xDim);
            seeds[kept++] = s;
        }
        return new OdeTestSet(parameters, observations, seeds);
    }
}
