namespace OnnxSbi.Runtime;

/// <summary>
/// Posterior draws in the user's variable names and units. Each variable is stored row-major with
/// shape [conditions, draws, …per-sample shape]: the draws of condition i are rows
/// i·<see cref="NumDraws"/> … (i+1)·<see cref="NumDraws"/> − 1 of <see cref="Values"/>.
/// </summary>
public sealed class PosteriorDraws
{
    internal PosteriorDraws(int numConditions, int numDraws, ArrayBatch values, IReadOnlyList<string> warnings)
    {
        NumConditions = numConditions;
        NumDraws = numDraws;
        Values = values;
        Warnings = warnings;
    }

    /// <summary>Number of conditions (observations) sampled for.</summary>
    public int NumConditions { get; }

    /// <summary>Draws per condition.</summary>
    public int NumDraws { get; }

    /// <summary>All draws as a batch of <see cref="NumConditions"/>·<see cref="NumDraws"/> rows.</summary>
    public ArrayBatch Values { get; }

    /// <summary>Things the caller should know, e.g. a consistency step count never seen in training.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The draws of one variable, row-major [conditions, draws, …].</summary>
    public double[] this[string name] => Values.Get(name);

    /// <summary>The full shape of one variable: [conditions, draws, …per-sample shape].</summary>
    public int[] Shape(string name) => [NumConditions, NumDraws, .. Values.SampleShape(name)];
}

/// <summary>Raised when a network produced NaN or infinite draws; never returned silently.</summary>
public sealed class NonFiniteDrawsException : OnnxSbiException
{
    /// <summary>Creates the exception with the counts.</summary>
    public NonFiniteDrawsException(string bundle, long nonFiniteDraws, long totalDraws, int firstCondition)
        : base($"Model '{bundle}' produced {nonFiniteDraws} non-finite draws out of {totalDraws} (first at condition {firstCondition}). " +
               "The conditions may lie far outside the training data, or the bundle is damaged.")
    {
        NonFiniteCount = nonFiniteDraws;
        TotalCount = totalDraws;
    }

    /// <summary>Draws with at least one non-finite value.</summary>
    public long NonFiniteCount { get; }

    /// <summary>Draws requested.</summary>
    public long TotalCount { get; }
}
