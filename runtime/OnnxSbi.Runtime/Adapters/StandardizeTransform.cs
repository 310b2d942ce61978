using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>standardize</c>: y = (x − mean)/std, element-wise over each variable's per-sample
/// shape; inverse x = y·std + mean; log|dy/dx| = −Σ_j log std_j per row.
/// <para>
/// Which variables: those in <c>include</c> (every variable when it is empty) that are not in
/// <c>exclude</c>. Statistics are either given by the user or fitted by <see cref="Fit"/> as the mean
/// and population standard deviation over rows (NumPy's default, ddof = 0), with the deviation floored at
/// <see cref="Adapter.MinimumStd"/> so that a constant variable does not divide by zero. After the
/// first fit, or when given, the statistics are frozen (BayesFlow freezes its running moments with the
/// model) and later fits leave them alone.
/// </para>
/// A mean or std of length 1 applies to every element of the variable.
/// </summary>
internal sealed class StandardizeTransform : AdapterTransform
{
    private readonly string[] _include;
    private readonly string[] _exclude;
    // Sorted so that manifests are written in a stable order.
    private readonly SortedDictionary<string, (double[] Mean, double[] Std)> _moments = new(StringComparer.Ordinal);

    internal StandardizeTransform(IEnumerable<string>? include, IEnumerable<string>? exclude)
    {
        _include = CheckKeys(include ?? [], nameof(include), allowEmpty: true);
        _exclude = CheckKeys(exclude ?? [], nameof(exclude), allowEmpty: true);
        foreach (string k in _include)
            if (_exclude.Contains(k)) throw new ArgumentException($"Variable '{k}' is both included and excluded.", nameof(exclude));
    }

    /// <summary>A step for one variable with statistics given by the user, frozen from the start.</summary>
    internal StandardizeTransform(string key, double[] mean, double[] std) : this([key], null)
    {
        AddMoments(key, mean, std);
        IsFrozen = true;
    }

    /// <summary>True once statistics exist: fitted, given, or read from a manifest.</summary>
    internal bool IsFrozen { get; private set; }

    internal override string Kind => "standardize";

    /// <summary>Adds frozen statistics (from the user or a manifest) after checking them.</summary>
    internal void AddMoments(string key, double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Standardization statistics of '{key}' need equally many means and stds (at least one); got {mean.Length} and {std.Length}.");
        foreach (double m in mean)
            if (!double.IsFinite(m)) throw new ArgumentException($"Standardization mean of '{key}' is not finite ({m}).");
        foreach (double s in std)
            if (!(s > 0) || !double.IsFinite(s)) throw new ArgumentException($"Standardization std of '{key}' must be positive and finite; got {s}.");
        _moments[key] = ((double[])mean.Clone(), (double[])std.Clone());
        IsFrozen = true;
    }

    private bool Selects(string name) => (_include.Length == 0 || _include.Contains(name)) && !_exclude.Contains(name);

    internal override void Fit(ArrayBatch batch)
    {
        foreach (string k in _include) RequirePresent(batch, k);
        foreach (string k in _exclude) RequirePresent(batch, k);
        if (IsFrozen) return;
        foreach (string name in batch.Names)
        {
            if (!Selects(name)) continue;
            _moments[name] = FitMoments(batch.Get(name), batch.Rows, batch.Width(name));
        }
        IsFrozen = true;
    }

    /// <summary>Mean and population std per element, two passes for accuracy (no E[x²] − E[x]² cancellation).</summary>
    private static (double[] Mean, double[] Std) FitMoments(double[] data, int rows, int width)
    {
        var mean = new double[width];
        var std = new double[width];
        for (int r = 0, o = 0; r < rows; r++, o += width)
            for (int j = 0; j < width; j++) mean[j] += data[o + j];
        for (int j = 0; j < width; j++) mean[j] /= rows;
        for (int r = 0, o = 0; r < rows; r++, o += width)
            for (int j = 0; j < width; j++)
            {
                double d = data[o + j] - mean[j];
                std[j] += d * d;
            }
        for (int j = 0; j < width; j++) std[j] = Math.Max(Math.Sqrt(std[j] / rows), Adapter.MinimumStd);
        return (mean, std);
    }

    internal override void Forward(ArrayBatch batch)
    {
        foreach (string name in batch.Names)
        {
            if (!Selects(name)) continue;
            if (!_moments.TryGetValue(name, out var m))
            {
                throw new OnnxSbiException(IsFrozen
                    ? $"Variable '{name}' reaches {Where} but has no standardization statistics: it was absent from the data given to Adapter.Fit. Statistics exist for: {(_moments.Count > 0 ? Quote(_moments.Keys) : "(none)")}."
                    : $"{WhereStart} has no statistics for '{name}': call Adapter.Fit(trainingData) before Forward, or give the mean and std.");
            }
            int width = CheckWidth(batch, name, m.Mean.Length);
            double[] data = batch.Get(name);
            if (m.Mean.Length == 1)
            {
                double mean = m.Mean[0], std = m.Std[0];
                for (int i = 0; i < data.Length; i++) data[i] = (data[i] - mean) / std;
            }
            else
            {
                for (int o = 0; o < data.Length; o += width)
                    for (int j = 0; j < width; j++) data[o + j] = (data[o + j] - m.Mean[j]) / m.Std[j];
            }
        }
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet)
    {
        foreach (string name in batch.Names)
        {
            if (!_moments.TryGetValue(name, out var m)) continue;
            int width = CheckWidth(batch, name, m.Mean.Length);
            double[] data = batch.Get(name);
            if (m.Mean.Length == 1)
            {
                double mean = m.Mean[0], std = m.Std[0];
                for (int i = 0; i < data.Length; i++) data[i] = data[i] * std + mean;
            }
            else
            {
                for (int o = 0; o < data.Length; o += width)
                    for (int j = 0; j < width; j++) data[o + j] = data[o + j] * m.Std[j] + m.Mean[j];
            }
            if (logDet is null) continue;
            // A constant per row: the Jacobian is diagonal with entries 1/std_j.
            double sumLogStd = 0;
            for (int j = 0; j < width; j++) sumLogStd += Math.Log(m.Std[m.Std.Length == 1 ? 0 : j]);
            for (int r = 0; r < logDet.Length; r++) logDet[r] -= sumLogStd;
        }
    }

    private int CheckWidth(ArrayBatch batch, string name, int statistics)
    {
        int width = batch.Width(name);
        if (statistics != 1 && statistics != width)
            throw new ShapeMismatchException(name, $"{statistics} values per row (the standardization statistics of {Where})", $"{width} values per row");
        return width;
    }

    internal override AdapterStep ToStep()
    {
        var step = new Standardize { Include = { _include }, Exclude = { _exclude } };
        foreach (var (name, m) in _moments) step.Moments[name] = new Moments { Mean = { m.Mean }, Std = { m.Std } };
        return new AdapterStep { Standardize = step };
    }

    /// <summary>"x: mean [0.01234, -1.502], std [1.001, 0.4987]" per variable with statistics, four significant digits.</summary>
    internal override IEnumerable<string> Details()
    {
        static string Values(double[] v) => $"[{string.Join(", ", v.Select(d => d.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}]";
        return _moments.Select(p => $"{p.Key}: mean {Values(p.Value.Mean)}, std {Values(p.Value.Std)}");
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (_include.Length > 0) parts.Add($"include: {Quote(_include)}");
        if (_exclude.Length > 0) parts.Add($"exclude: {Quote(_exclude)}");
        parts.Add(IsFrozen ? $"fitted: {(_moments.Count > 0 ? Quote(_moments.Keys) : "(none)")}" : "not fitted");
        return $"standardize({string.Join("; ", parts)})";
    }
}
