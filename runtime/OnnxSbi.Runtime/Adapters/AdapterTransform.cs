using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// One step of an <see cref="Adapter"/>. Steps work in place on a batch the adapter owns (a clone of
/// the caller's data), so they may overwrite, add and remove variables freely.
/// </summary>
internal abstract class AdapterTransform
{
    /// <summary>Zero-based position in the adapter, for error messages.</summary>
    internal int Position { get; set; }

    /// <summary>BayesFlow's name of the transform, e.g. "standardize".</summary>
    internal abstract string Kind { get; }

    /// <summary>"adapter step 2 (standardize)": where an error happened.</summary>
    protected string Where => $"adapter step {Position} ({Kind})";

    /// <summary><see cref="Where"/> at the start of a sentence.</summary>
    protected string WhereStart => $"Adapter step {Position} ({Kind})";

    /// <summary>
    /// Checks the variables the step names against training data (which carries every variable, so a
    /// missing one is a typo) and fits statistics that are not frozen yet. <see cref="Forward"/> follows.
    /// </summary>
    internal abstract void Fit(ArrayBatch batch);

    /// <summary>Applies the step; variables that are absent (conditions only, at inference) are skipped.</summary>
    internal abstract void Forward(ArrayBatch batch);

    /// <summary>
    /// Undoes the step. When <paramref name="logDet"/> is given, adds to each row the log|det| of this
    /// step's forward Jacobian, evaluated at the recovered input, over every variable it transforms.
    /// </summary>
    internal abstract void Inverse(ArrayBatch batch, double[]? logDet);

    /// <summary>The manifest form of the step, with every fitted statistic.</summary>
    internal abstract AdapterStep ToStep();

    /// <summary>Lines under <see cref="ToString"/> in <see cref="Adapter.Describe"/>: fitted constants, when the step has any.</summary>
    internal virtual IEnumerable<string> Details() => [];

    /// <summary>A one-line human description, e.g. "log(sigma)".</summary>
    public abstract override string ToString();

    /// <summary>Throws when training data lacks a variable the step names.</summary>
    protected void RequirePresent(ArrayBatch batch, string key)
    {
        if (!batch.Contains(key)) throw new UnknownVariableException(key, batch.Names, $"variable in {Where}");
    }

    /// <summary>Validates and copies a key list given by the user or a manifest.</summary>
    protected static string[] CheckKeys(IEnumerable<string> keys, string parameter, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(keys, parameter);
        string[] list = [.. keys];
        if (!allowEmpty && list.Length == 0) throw new ArgumentException("At least one variable name is required.", parameter);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string k in list)
        {
            if (string.IsNullOrEmpty(k)) throw new ArgumentException("Variable names must not be empty.", parameter);
            if (!seen.Add(k)) throw new ArgumentException($"Variable '{k}' is listed twice.", parameter);
        }
        return list;
    }

    /// <summary>'a', 'b' for messages and descriptions.</summary>
    protected static string Quote(IEnumerable<string> keys) => string.Join(", ", keys.Select(k => $"'{k}'"));
}
