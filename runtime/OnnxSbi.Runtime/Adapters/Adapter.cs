using System.Numerics.Tensors;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's adapter: the pipeline of named transforms between the user's variables and the two
/// network-side matrices, <c>inference_variables</c> [N, D] and <c>inference_conditions</c> [N, C].
/// The trainer and the runtime share this one implementation, and the manifest stores it as an
/// <see cref="AdapterSpec"/>.
/// </summary>
/// <remarks>
/// <para>Build it fluently with BayesFlow's names, fit it once on training data, then apply it:</para>
/// <code>
/// var adapter = Adapter.Create()
///     .ToArray()
///     .ConvertDtype(Dtype.Float64, Dtype.Float32)
///     .Standardize(exclude: ["theta"])
///     .Rename("theta", "inference_variables")
///     .Rename("x", "inference_conditions")
///     .Fit(trainingData);
/// ArrayBatch adapted = adapter.Forward(trainingData);          // training: every variable
/// ArrayBatch conditions = adapter.Forward(observations);       // inference: conditions only
/// ArrayBatch draws = adapter.Inverse(networkSamples);          // back to "theta", in user units
/// </code>
/// <para>
/// <see cref="Forward"/> skips the transforms of variables that are absent, so conditions alone can be
/// adapted at inference time. <see cref="Inverse"/> runs the invertible steps backwards and skips
/// drop and keep. Neither changes its argument: both work on a copy.
/// </para>
/// <para>
/// Thread safety: adding steps and <see cref="Fit"/> are not thread-safe. Once fitted
/// (<see cref="IsFitted"/>), <see cref="Forward"/>, <see cref="Inverse"/> and
/// <see cref="LogDetJacobian"/> only read the adapter and may run concurrently.
/// </para>
/// </remarks>
public sealed class Adapter
{
    /// <summary>The network-side name of the parameters BayesFlow's networks infer.</summary>
    public const string InferenceVariables = "inference_variables";

    /// <summary>The network-side name of the conditions the networks see.</summary>
    public const string InferenceConditions = "inference_conditions";

    /// <summary>
    /// The floor on fitted standard deviations, so that a variable that is constant in the training data
    /// is centred instead of divided by zero.
    /// </summary>
    public const double MinimumStd = 1e-8;

    private readonly List<AdapterTransform> _steps = [];

    private Adapter() { }

    /// <summary>An empty adapter, to which steps are added in the order they apply.</summary>
    public static Adapter Create() => new();

    /// <summary>The number of steps.</summary>
    public int Count => _steps.Count;

    /// <summary>
    /// True when every standardize step has statistics and every concatenate step knows its widths,
    /// i.e. the adapter can be written to a manifest and applied to conditions alone.
    /// </summary>
    public bool IsFitted => _steps.All(s => s switch
    {
        StandardizeTransform st => st.IsFrozen,
        ConcatenateTransform ct => ct.HasWidths,
        _ => true,
    });

    /// <summary>BayesFlow's <c>to_array</c>; a no-op on arrays, kept so BayesFlow pipelines read the same.</summary>
    public Adapter ToArray() => Add(new ToArrayTransform());

    /// <summary>
    /// BayesFlow's <c>convert_dtype</c> for every variable: float64 → float32 rounds each value to
    /// float precision (what the network sees); the inverse direction converts back.
    /// </summary>
    /// <param name="from">The element type of the values given to <see cref="Forward"/>.</param>
    /// <param name="to">The element type the network side sees.</param>
    public Adapter ConvertDtype(Dtype from, Dtype to) => Add(new ConvertDtypeTransform(from, to));

    /// <summary>
    /// BayesFlow's <c>standardize</c>: (x − mean)/std element-wise, with statistics fitted by
    /// <see cref="Fit"/> (mean and population std over rows, std floored at <see cref="MinimumStd"/>) and
    /// frozen from then on.
    /// </summary>
    /// <param name="include">Variables to standardize; empty or null means every variable present at this step.</param>
    /// <param name="exclude">Variables never to standardize.</param>
    public Adapter Standardize(IEnumerable<string>? include = null, IEnumerable<string>? exclude = null)
        => Add(new StandardizeTransform(include, exclude));

    /// <summary>
    /// Standardizes <paramref name="key"/> with statistics given by the user instead of fitted: one mean
    /// and std per element of its per-sample shape, or a single one for every element.
    /// </summary>
    public Adapter Standardize(string key, double[] mean, double[] std)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return Add(new StandardizeTransform(key, mean, std));
    }

    /// <summary>Standardizes every element of <paramref name="key"/> with one given mean and std.</summary>
    public Adapter Standardize(string key, double mean, double std) => Standardize(key, [mean], [std]);

    /// <summary>BayesFlow's <c>rename</c>.</summary>
    public Adapter Rename(string from, string to) => Add(new RenameTransform(from, to));

    /// <summary>
    /// BayesFlow's <c>concatenate</c>: joins <paramref name="keys"/> (in that order, each flattened per
    /// row) into <paramref name="into"/>. The widths are recorded at fit or first use; the inverse splits
    /// at them and returns each piece with a flat shape [width].
    /// </summary>
    public Adapter Concatenate(IEnumerable<string> keys, string into) => Add(new ConcatenateTransform(keys, into));

    /// <summary>BayesFlow's <c>drop</c>: removes variables (not inverted).</summary>
    public Adapter Drop(params string[] keys) => Add(new DropTransform(keys));

    /// <summary>BayesFlow's <c>keep</c>: removes every variable not listed (not inverted).</summary>
    public Adapter Keep(params string[] keys) => Add(new KeepTransform(keys));

    /// <summary>BayesFlow's <c>log</c>: log x, or log(1 + x) when <paramref name="p1"/>; inverse exp (expm1).</summary>
    public Adapter Log(string key, bool p1 = false) => Log([key], p1);

    /// <summary>BayesFlow's <c>log</c> for several variables.</summary>
    public Adapter Log(IEnumerable<string> keys, bool p1 = false) => Add(new LogTransform(keys, p1));

    /// <summary>BayesFlow's <c>sqrt</c>: √x for x ≥ 0; inverse y².</summary>
    public Adapter Sqrt(params string[] keys) => Add(new SqrtTransform(keys));

    /// <summary>
    /// BayesFlow's <c>constrain</c>: maps a bounded variable onto the real line. Both bounds:
    /// logit((x − l)/(u − l)), inverse (u − l)·sigmoid(y) + l. Lower only: softplus⁻¹(x − l), inverse
    /// softplus(y) + l. Upper only: softplus⁻¹(u − x), inverse u − softplus(y).
    /// </summary>
    public Adapter Constrain(string key, double? lower = null, double? upper = null) => Constrain([key], lower, upper);

    /// <summary>BayesFlow's <c>constrain</c> for several variables with the same bounds.</summary>
    public Adapter Constrain(IEnumerable<string> keys, double? lower = null, double? upper = null)
        => Add(new ConstrainTransform(keys, lower, upper));

    private Adapter Add(AdapterTransform step)
    {
        step.Position = _steps.Count;
        _steps.Add(step);
        return this;
    }

    /// <summary>
    /// Fits the adapter to training data, which must hold every variable the steps name (a missing one
    /// is reported as unknown): runs the data through the steps in order, fitting each standardize step
    /// that has no statistics yet on the values that reach it, and recording concatenation widths.
    /// Statistics that exist are frozen and left as they are. <paramref name="data"/> is not changed.
    /// </summary>
    /// <returns>This adapter, fitted.</returns>
    public Adapter Fit(ArrayBatch data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rows == 0) throw new InvalidRequestException("Adapter.Fit needs at least one row of training data; received 0.");
        var batch = data.Clone();
        RequireFinite(batch, "given to Adapter.Fit");
        foreach (var step in _steps)
        {
            step.Fit(batch);
            step.Forward(batch);
        }
        return this;
    }

    /// <summary>
    /// Applies the steps in order to a copy of <paramref name="data"/>: training data, or conditions
    /// alone at inference time (the steps of absent variables are skipped; a concatenation that finds
    /// only some of its keys is an error naming the missing one).
    /// </summary>
    /// <exception cref="NonFiniteValueException">An input is NaN or infinite, or a value lies outside a transform's domain.</exception>
    /// <exception cref="OnnxSbiException">A standardize step has no statistics for a variable (call <see cref="Fit"/> first).</exception>
    public ArrayBatch Forward(ArrayBatch data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var batch = data.Clone();
        RequireFinite(batch, "given to Adapter.Forward");
        foreach (var step in _steps) step.Forward(batch);
        return batch;
    }

    /// <summary>
    /// Maps network-side variables (e.g. samples of <c>inference_variables</c>) back to the user's
    /// variables and units, running the invertible steps in reverse on a copy; drop and keep are skipped.
    /// </summary>
    public ArrayBatch Inverse(ArrayBatch data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var batch = data.Clone();
        RequireFinite(batch, "given to Adapter.Inverse");
        for (int i = _steps.Count - 1; i >= 0; i--) _steps[i].Inverse(batch, null);
        return batch;
    }

    /// <summary>
    /// The log-Jacobian that turns a network-side density into a user-side one. For each row n, with
    /// y_n the row of <paramref name="key"/> in <paramref name="networkSide"/> and θ_n = A⁻¹(y_n) the user
    /// variables it maps back to, returns log|det ∂A(θ)/∂θ| at θ_n, where A is the forward adapter
    /// restricted to the variables that end up in <paramref name="key"/>. Hence
    /// <c>log p_user(θ) = log q_net(A(θ)) + LogDetJacobian(A(θ))</c>.
    /// </summary>
    /// <remarks>
    /// Standardize, log, sqrt and constrain contribute; rename, concatenate, to_array and convert_dtype
    /// are volume-preserving (float32 rounding is not a change of variables). Other variables in
    /// <paramref name="networkSide"/> are ignored.
    /// </remarks>
    public double[] LogDetJacobian(ArrayBatch networkSide, string key = InferenceVariables)
    {
        ArgumentNullException.ThrowIfNull(networkSide);
        var batch = new ArrayBatch(networkSide.Rows)
            .Set(key, (double[])networkSide.Get(key).Clone(), [.. networkSide.SampleShape(key)]);
        RequireFinite(batch, "given to Adapter.LogDetJacobian");
        var logDet = new double[batch.Rows];
        for (int i = _steps.Count - 1; i >= 0; i--) _steps[i].Inverse(batch, logDet);
        return logDet;
    }

    /// <summary>The manifest form, with every fitted statistic and width; <see cref="FromSpec"/> restores it exactly.</summary>
    public AdapterSpec ToSpec()
    {
        var spec = new AdapterSpec();
        foreach (var step in _steps) spec.Steps.Add(step.ToStep());
        return spec;
    }

    /// <summary>Rebuilds an adapter from its manifest form, statistics frozen as stored.</summary>
    /// <exception cref="OnnxSbiException">A step is empty or invalid; the message names the step.</exception>
    public static Adapter FromSpec(AdapterSpec spec) => Restore(spec, source: null);

    /// <summary>
    /// Reads an adapter from protobuf JSON of an <see cref="AdapterSpec"/>, the form the bundle manifest's
    /// <c>adapter</c> field holds; field names may be the proto names (<c>to_array</c>, <c>convert_dtype</c>) or
    /// their JSON names (<c>toArray</c>). A standardize step without moments is unfitted, and <see cref="Fit"/>
    /// fits it on the training data; one with moments keeps them.
    /// </summary>
    /// <example>
    /// <code>
    /// {"steps": [
    ///   {"to_array": {}},
    ///   {"convert_dtype": {"from": "float64", "to": "float32"}},
    ///   {"constrain": {"keys": ["sigma"], "lower": 0}},
    ///   {"standardize": {"include": ["x"]}},
    ///   {"concatenate": {"keys": ["mu", "sigma"], "into": "inference_variables"}},
    ///   {"rename": {"from": "x", "to": "inference_conditions"}}
    /// ]}
    /// </code>
    /// </example>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">The file it came from, named in every error.</param>
    /// <exception cref="OnnxSbiException">
    /// The text is not JSON, a step names an unknown transform or field, or a step's values are invalid (e.g. a
    /// constrain whose lower bound is not below its upper bound); the message names <paramref name="source"/> and the step.
    /// </exception>
    public static Adapter FromJson(string json, string source) => Restore(AdapterJson.Parse(json, source), source);

    /// <summary>
    /// The adapter as indented protobuf JSON, the text <see cref="FromJson"/> reads and the bundle manifest stores,
    /// with every fitted statistic and width.
    /// </summary>
    public string ToJson() => AdapterJson.Format(ToSpec());

    /// <summary>
    /// A human-readable description: one line per step (its transform and variables), and for standardize steps
    /// the mean and standard deviation of each element, to four significant digits.
    /// </summary>
    /// <example>
    /// <code>
    /// Adapter: 5 steps, fitted
    ///   0  to_array()
    ///   1  convert_dtype(float64 -> float32)
    ///   2  standardize(include: 'x'; fitted: 'x')
    ///        x: mean [0.01234, -1.502], std [1.001, 0.4987]
    ///   3  rename('theta' -> 'inference_variables')
    ///   4  rename('x' -> 'inference_conditions')
    /// </code>
    /// </example>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        text.Append($"Adapter: {_steps.Count} step{(_steps.Count == 1 ? "" : "s")}, {(IsFitted ? "fitted" : "not fitted (call Fit on training data)")}");
        for (int i = 0; i < _steps.Count; i++)
        {
            text.AppendLine();
            text.Append($"  {i,-2} {_steps[i]}");
            foreach (string detail in _steps[i].Details()) text.AppendLine().Append($"       {detail}");
        }
        return text.ToString();
    }

    private static Adapter Restore(AdapterSpec spec, string? source)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var adapter = new Adapter();
        for (int i = 0; i < spec.Steps.Count; i++)
        {
            var s = spec.Steps[i];
            try
            {
                adapter.Add(s.KindCase switch
                {
                    AdapterStep.KindOneofCase.ToArray => new ToArrayTransform(),
                    AdapterStep.KindOneofCase.ConvertDtype => ConvertDtypeTransform.FromSpec(s.ConvertDtype),
                    AdapterStep.KindOneofCase.Standardize => StandardizeFromSpec(s.Standardize),
                    AdapterStep.KindOneofCase.Rename => new RenameTransform(s.Rename.From, s.Rename.To),
                    AdapterStep.KindOneofCase.Concatenate => new ConcatenateTransform(s.Concatenate.Keys, s.Concatenate.Into, s.Concatenate.Widths),
                    AdapterStep.KindOneofCase.Drop => new DropTransform(s.Drop.Keys),
                    AdapterStep.KindOneofCase.Keep => new KeepTransform(s.Keep.Keys),
                    AdapterStep.KindOneofCase.Log => new LogTransform(s.Log.Keys, s.Log.P1),
                    AdapterStep.KindOneofCase.Sqrt => new SqrtTransform(s.Sqrt.Keys),
                    AdapterStep.KindOneofCase.Constrain => new ConstrainTransform(s.Constrain.Keys,
                        s.Constrain.HasLower ? s.Constrain.Lower : null, s.Constrain.HasUpper ? s.Constrain.Upper : null),
                    _ => throw new ArgumentException("the step has no transform set (written by a newer version?)."),
                });
            }
            catch (ArgumentException ex)
            {
                throw source is null
                    ? new OnnxSbiException($"Adapter spec step {i} ({s.KindCase}) is invalid: {ex.Message}", ex)
                    : AdapterJson.Error(source, $"step {i} ({AdapterJson.KindName(s)}) is invalid: {ex.Message}", ex);
            }
        }
        return adapter;
    }

    private static StandardizeTransform StandardizeFromSpec(Contracts.Manifest.Standardize s)
    {
        var step = new StandardizeTransform(s.Include, s.Exclude);
        foreach (var (name, m) in s.Moments) step.AddMoments(name, [.. m.Mean], [.. m.Std]);
        return step;
    }

    /// <summary>
    /// The network-side float32 matrix of <paramref name="key"/>: row-major [N, width], each value
    /// rounded to the nearest float.
    /// </summary>
    public static float[] ToNetwork(ArrayBatch adapted, string key)
    {
        ArgumentNullException.ThrowIfNull(adapted);
        var values = new float[adapted.Get(key).Length];
        ToNetwork(adapted, key, values);
        return values;
    }

    /// <summary>
    /// Writes the float32 matrix of <paramref name="key"/> into <paramref name="destination"/>, which
    /// must hold exactly N·width values; allocates nothing.
    /// </summary>
    public static void ToNetwork(ArrayBatch adapted, string key, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(adapted);
        double[] source = adapted.Get(key);
        if (destination.Length != source.Length)
            throw new ShapeMismatchException(key, $"a destination of {source.Length} floats ([{adapted.Rows}, {adapted.Width(key)}])", $"{destination.Length} floats");
        TensorPrimitives.ConvertTruncating<double, float>(source, destination);
    }

    /// <summary>
    /// A batch holding one network-side variable, <paramref name="key"/> with shape [width], from a
    /// row-major float32 matrix [rows, width] such as a network's output.
    /// </summary>
    public static ArrayBatch FromNetwork(ReadOnlySpan<float> values, int rows, int width, string key = InferenceVariables)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if (values.Length != (long)rows * width)
            throw new ShapeMismatchException(key, $"[{rows}, {width}] ({(long)rows * width} values)", $"{values.Length} values");
        var data = new double[values.Length];
        TensorPrimitives.ConvertTruncating<float, double>(values, data);
        return new ArrayBatch(rows).Set(key, data, width);
    }

    /// <summary>The steps, one per line, e.g. "2: standardize(exclude: 'theta'; fitted: 'x')".</summary>
    public override string ToString() => string.Join(Environment.NewLine, _steps.Select((s, i) => $"{i}: {s}"));

    private static void RequireFinite(ArrayBatch batch, string context)
    {
        foreach (string name in batch.Names)
        {
            double[] data = batch.Get(name);
            int bad = IndexOfNonFinite(data);
            if (bad >= 0) throw new NonFiniteValueException(name, bad / batch.Width(name), data[bad], context);
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<double> data)
    {
        for (int i = 0; i < data.Length; i++)
            if (!double.IsFinite(data[i])) return i;
        return -1;
    }
}
