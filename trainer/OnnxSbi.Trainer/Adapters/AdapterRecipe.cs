using System.Globalization;
using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Trainer.Adapters;

/// <summary>
/// The common adapter without writing one: name the parameters and the observations, say which to standardize,
/// log or constrain, and <see cref="Build"/> returns the chain a BayesFlow user would write by hand:
/// <c>to_array → convert_dtype(float64 → float32) → constrain / log → standardize → concatenate (or rename) into
/// inference_variables and inference_conditions</c>. The adapter it builds is unfitted;
/// <see cref="Workflows.BasicWorkflow"/> fits it on the training data.
/// </summary>
/// <remarks>
/// <para>
/// Standardization by default covers the conditions and not the parameters (<see cref="Conditions"/>), as the
/// project's two-moons adapter does: observations are rescaled for the network, parameters keep their units up to
/// the bijections asked for. BayesFlow's <c>BasicWorkflow</c> documents <c>standardize="inference_variables"</c> as
/// its default instead (applied by its approximator after the adapter); ask for <see cref="All"/> or
/// <see cref="Variables"/> to standardize the parameters too.
/// </para>
/// <para>The string forms are the command line's: <c>theta</c>, <c>mu,sigma</c>, <c>sigma:0:</c>, <c>theta:-1:1</c>, <c>theta::10</c>.</para>
/// </remarks>
/// <example>
/// <code>
/// // A mean and a positive scale, observed through five draws "y".
/// Adapter adapter = new AdapterRecipe(["mu", "sigma"], ["y"])
///     .Constrain("sigma:0:")         // or .Log("sigma")
///     .Standardize("all")
///     .Build();
/// // to_array, convert_dtype(float64 -> float32), constrain('sigma', x > 0), standardize(include: 'mu', 'sigma', 'y'),
/// // concatenate('mu', 'sigma' -> 'inference_variables'), rename('y' -> 'inference_conditions')
/// </code>
/// </example>
public sealed class AdapterRecipe
{
    /// <summary>Standardize keyword: every parameter and every condition.</summary>
    public const string All = "all";

    /// <summary>Standardize keyword: the conditions only (the default).</summary>
    public const string Conditions = "conditions";

    /// <summary>Standardize keyword: the parameters only.</summary>
    public const string Variables = "variables";

    /// <summary>Standardize keyword: nothing.</summary>
    public const string None = "none";

    private readonly List<(string Name, double? Lower, double? Upper)> _constraints = [];
    private readonly List<string> _logs = [];
    private List<string> _standardize;

    /// <summary>Starts a recipe for the given parameters and conditions.</summary>
    /// <param name="inferenceVariables">
    /// The parameters, concatenated into <c>inference_variables</c> in this order (renamed when there is one). Each entry may
    /// hold several comma-separated names ("mu,sigma").
    /// </param>
    /// <param name="inferenceConditions">The observations, concatenated into <c>inference_conditions</c> in this order; none for an unconditional model.</param>
    /// <exception cref="ArgumentException">No parameter, an empty name, a name listed twice, or a name that is both a parameter and a condition.</exception>
    public AdapterRecipe(IEnumerable<string> inferenceVariables, IEnumerable<string>? inferenceConditions = null)
    {
        ArgumentNullException.ThrowIfNull(inferenceVariables);
        InferenceVariables = SplitNames(inferenceVariables, "inference variable");
        InferenceConditions = SplitNames(inferenceConditions ?? [], "inference condition");
        if (InferenceVariables.Count == 0)
            throw new ArgumentException("An adapter recipe needs at least one inference variable (the parameters to infer, e.g. 'theta').", nameof(inferenceVariables));
        if (InferenceVariables.FirstOrDefault(InferenceConditions.Contains) is { } both)
            throw new ArgumentException($"'{both}' is listed both as an inference variable and as an inference condition.", nameof(inferenceConditions));
        if (InferenceVariables.Concat(InferenceConditions).FirstOrDefault(n => n is Adapter.InferenceVariables or Adapter.InferenceConditions) is { } reserved)
            throw new ArgumentException($"'{reserved}' is the network-side name the recipe produces; name the user-side variables (e.g. 'theta', 'x').", nameof(inferenceVariables));
        _standardize = [.. InferenceConditions];
    }

    /// <summary>The parameters, in the order they are concatenated.</summary>
    public IReadOnlyList<string> InferenceVariables { get; }

    /// <summary>The conditions, in the order they are concatenated.</summary>
    public IReadOnlyList<string> InferenceConditions { get; }

    /// <summary>The variables the adapter will standardize, in recipe order.</summary>
    public IReadOnlyList<string> StandardizedVariables => _standardize;

    /// <summary>
    /// Chooses which variables to standardize, replacing the default (<see cref="Conditions"/>): the keywords
    /// <see cref="All"/>, <see cref="Conditions"/>, <see cref="Variables"/>, <see cref="None"/>, or names of the recipe's
    /// variables; entries may be comma-separated. Keywords and names combine ("conditions,mu").
    /// </summary>
    /// <exception cref="ArgumentException">An entry is neither a keyword nor one of the recipe's variables, or "none" is combined with others.</exception>
    public AdapterRecipe Standardize(params IEnumerable<string> which)
    {
        ArgumentNullException.ThrowIfNull(which);
        var entries = SplitNames(which, "standardize entry");
        if (entries.Contains(None) && entries.Count > 1)
            throw new ArgumentException($"Standardize '{None}' cannot be combined with other entries; got {Quote(entries)}.", nameof(which));
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            IEnumerable<string> names = entry switch
            {
                All => InferenceVariables.Concat(InferenceConditions),
                Conditions => InferenceConditions,
                Variables => InferenceVariables,
                None => [],
                _ when IsKnown(entry) => [entry],
                _ => throw new ArgumentException(
                    $"Cannot standardize '{entry}': expected '{All}', '{Conditions}', '{Variables}', '{None}' or one of the recipe's variables ({Quote(Known)}).", nameof(which)),
            };
            chosen.UnionWith(names);
        }
        _standardize = [.. Known.Where(chosen.Contains)];
        return this;
    }

    /// <summary>BayesFlow's <c>log</c> on a positive variable (e.g. a scale): the network sees log x. Comma-separated names are accepted.</summary>
    /// <exception cref="ArgumentException">The name is not one of the recipe's variables, or it is already logged or constrained.</exception>
    public AdapterRecipe Log(string variable)
    {
        foreach (string name in SplitNames([variable], "log variable"))
        {
            RequireKnown(name, "log");
            RequireUntransformed(name, "log");
            _logs.Add(name);
        }
        return this;
    }

    /// <summary>BayesFlow's <c>constrain</c> with the given bounds (either may be null, not both).</summary>
    /// <exception cref="ArgumentException">Unknown variable, already transformed, no bound, a bound that is not finite, or lower ≥ upper.</exception>
    public AdapterRecipe Constrain(string variable, double? lower, double? upper)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variable);
        string shortHand = $"{variable}:{lower?.ToString("R", CultureInfo.InvariantCulture)}:{upper?.ToString("R", CultureInfo.InvariantCulture)}";
        RequireKnown(variable, "constrain");
        CheckBounds(shortHand, lower, upper);
        RequireUntransformed(variable, "constrain");
        _constraints.Add((variable, lower, upper));
        return this;
    }

    /// <summary>
    /// BayesFlow's <c>constrain</c> from its short-hand <c>NAME:LOWER:UPPER</c>, either bound empty when absent:
    /// <c>theta:-1:1</c>, <c>sigma:0:</c> (positive), <c>theta::10</c> (below 10). Numbers use '.' as the decimal point.
    /// </summary>
    /// <exception cref="ArgumentException">Not of that form, a bound that is not a finite number, no bound, lower ≥ upper, or an unknown variable.</exception>
    public AdapterRecipe Constrain(string shortHand)
    {
        ArgumentNullException.ThrowIfNull(shortHand);
        const string Form = "NAME:LOWER:UPPER, either bound may be empty (e.g. 'theta:-1:1', 'sigma:0:', 'theta::10')";
        int second = shortHand.LastIndexOf(':');
        int first = second > 0 ? shortHand.LastIndexOf(':', second - 1) : -1;
        if (first <= 0) throw new ArgumentException($"Constrain '{shortHand}' must read {Form}.", nameof(shortHand));
        string name = shortHand[..first].Trim();
        double? lower = ParseBound(shortHand, shortHand[(first + 1)..second], "lower", Form);
        double? upper = ParseBound(shortHand, shortHand[(second + 1)..], "upper", Form);
        RequireKnown(name, "constrain");
        CheckBounds(shortHand, lower, upper);
        RequireUntransformed(name, "constrain");
        _constraints.Add((name, lower, upper));
        return this;
    }

    /// <summary>
    /// The unfitted adapter: to_array, convert_dtype(float64 → float32), the constrain or log of each variable that has
    /// one (in the variables' order), one standardize over <see cref="StandardizedVariables"/> (when any), then the parameters concatenated (or
    /// renamed, when there is one) into <c>inference_variables</c> and the conditions into <c>inference_conditions</c>.
    /// Each call builds a new adapter.
    /// </summary>
    public Adapter Build()
    {
        var adapter = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32);
        var bijections = _constraints.Select(c => (c.Name, IsLog: false, c.Lower, c.Upper))
            .Concat(_logs.Select(n => (Name: n, IsLog: true, Lower: (double?)null, Upper: (double?)null)))
            .OrderBy(b => Known.IndexOf(b.Name));
        foreach (var b in bijections)
            adapter = b.IsLog ? adapter.Log(b.Name) : adapter.Constrain(b.Name, b.Lower, b.Upper);
        if (_standardize.Count > 0) adapter = adapter.Standardize(include: _standardize);
        adapter = Join(adapter, InferenceVariables, Adapter.InferenceVariables);
        if (InferenceConditions.Count > 0) adapter = Join(adapter, InferenceConditions, Adapter.InferenceConditions);
        return adapter;
    }

    /// <summary>The recipe as the flags that produce it, e.g. "--inference-variables mu,sigma --inference-conditions y --constrain sigma:0:".</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"inference variables: {string.Join(",", InferenceVariables)}" };
        if (InferenceConditions.Count > 0) parts.Add($"inference conditions: {string.Join(",", InferenceConditions)}");
        parts.Add($"standardize: {(_standardize.Count > 0 ? string.Join(",", _standardize) : None)}");
        if (_logs.Count > 0) parts.Add($"log: {string.Join(",", _logs)}");
        foreach (var (name, lower, upper) in _constraints)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"constrain: {name}:{lower}:{upper}"));
        return string.Join("; ", parts);
    }

    private static Adapter Join(Adapter adapter, IReadOnlyList<string> names, string into)
        => names.Count == 1 ? adapter.Rename(names[0], into) : adapter.Concatenate(names, into);

    private List<string> Known => [.. InferenceVariables, .. InferenceConditions];

    private bool IsKnown(string name) => InferenceVariables.Contains(name) || InferenceConditions.Contains(name);

    private void RequireKnown(string name, string transform)
    {
        if (!IsKnown(name))
            throw new ArgumentException($"Cannot {transform} '{name}': it is not one of the recipe's variables ({Quote(Known)}).");
    }

    private void RequireUntransformed(string name, string transform)
    {
        if (_logs.Contains(name) || _constraints.Any(c => c.Name == name))
            throw new ArgumentException($"Cannot {transform} '{name}': it is already {(_logs.Contains(name) ? "logged" : "constrained")}; give each variable one of log or constrain.");
    }

    private static void CheckBounds(string shortHand, double? lower, double? upper)
    {
        if (lower is null && upper is null)
            throw new ArgumentException($"Constrain '{shortHand}' has no bound; give a lower bound, an upper bound or both (e.g. 'sigma:0:').");
        if (lower is { } l && upper is { } u && !(l < u))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Constrain '{shortHand}': the lower bound ({l}) must be below the upper bound ({u})."));
    }

    private static double? ParseBound(string shortHand, string text, string which, string form)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new ArgumentException($"Constrain '{shortHand}': the {which} bound '{text}' is not a number; expected {form}.");
        if (!double.IsFinite(value))
            throw new ArgumentException($"Constrain '{shortHand}': the {which} bound must be finite; leave it empty for no bound.");
        return value;
    }

    private static List<string> SplitNames(IEnumerable<string> entries, string role)
    {
        var names = new List<string>();
        foreach (string entry in entries)
        {
            ArgumentNullException.ThrowIfNull(entry);
            foreach (string part in entry.Split(','))
            {
                string name = part.Trim();
                if (name.Length == 0) throw new ArgumentException($"Empty {role} name in '{entry}'.");
                if (names.Contains(name)) throw new ArgumentException($"The {role} '{name}' is listed twice.");
                names.Add(name);
            }
        }
        return names;
    }

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
