using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.TestSupport;

/// <summary>
/// A conjugate Gaussian task whose posterior is known exactly, so calibration can be tested without a
/// trained network: θ ~ N(0, τ²·I₂), x | θ ~ N(θ, σ²·I₂) ⇒ θ | x ~ N(k·x, v·I₂) with k = τ²/(τ²+σ²) and
/// v = τ²σ²/(τ²+σ²). With τ = 1, σ = 0.5: k = 0.8, v = 0.2.
/// </summary>
public static class ConjugateGaussian
{
    /// <summary>The prior standard deviation τ.</summary>
    public const double Tau = 1.0;

    /// <summary>The observation noise standard deviation σ.</summary>
    public const double Sigma = 0.5;

    /// <summary>The posterior mean's gain k = τ²/(τ²+σ²).</summary>
    public const double Gain = Tau * Tau / (Tau * Tau + Sigma * Sigma);

    /// <summary>The posterior variance v = τ²σ²/(τ²+σ²) of each component.</summary>
    public const double PosteriorVariance = Tau * Tau * Sigma * Sigma / (Tau * Tau + Sigma * Sigma);

    private static readonly OnnxModelInfo Info = new("OnnxSbi.TestSupport", "0");

    /// <summary>The prior and likelihood above as a simulator with outputs "theta" [2] and "x" [2].</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed)
        .Add("prior", ctx =>
        {
            double[] theta = ctx.Output("theta", 2);
            for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextNormal(0, Tau);
        })
        .Add("likelihood", ctx =>
        {
            double[] theta = ctx.Get("theta");
            double[] x = ctx.Output("x", 2);
            for (int i = 0; i < x.Length; i++) x[i] = ctx.Random.NextNormal(theta[i], Sigma);
        });

    /// <summary>
    /// A coupling-flow bundle sampling θ = k·x + shift + √(varianceScale·v)·z, z ~ N(0, I): the exact
    /// posterior for varianceScale = 1 and shift = 0, overconfident for varianceScale &lt; 1, biased for
    /// shift ≠ 0.
    /// </summary>
    public static string WriteBundle(string directory, double varianceScale = 1, double shift = 0, string name = "conjugate")
    {
        float sd = (float)Math.Sqrt(varianceScale * PosteriorVariance);
        var adapter = Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Rename("theta", Adapter.InferenceVariables).Rename("x", Adapter.InferenceConditions);
        var manifest = new BundleManifest
        {
            SchemaVersion = BundleReader.SchemaVersion,
            Producer = new ProducerInfo { Name = "tests", Version = "0" },
            Family = NetworkFamily.CouplingFlow,
            InferenceDim = 2,
            ConditionDim = 2,
            Adapter = adapter.ToSpec(),
            Description = $"conjugate Gaussian posterior, variance ×{varianceScale}, shift {shift}",
            CouplingFlow = new CouplingFlowSampler { Transform = "affine", Depth = 1 },
            Training = new TrainingRecord { Mode = "offline", Epochs = 4, Loss = { 2.9, 2.1, 1.8, 1.7 }, ValLoss = { 2.5, 2.0, 1.9, 1.85 } },
        };
        manifest.InferenceVariables.Add(new VariableSpec { Name = "theta", Shape = { 2 } });
        manifest.ConditionVariables.Add(new VariableSpec { Name = "x", Shape = { 2 } });
        var graphs = new Dictionary<string, ModelProto>
        {
            ["inverse"] = Inverse(sd, (float)shift),
            ["forward"] = Forward(sd, (float)shift),
        };
        string path = Path.Combine(directory, $"{name}.onnxsbi");
        BundleWriter.Write(path, manifest, graphs, "# conjugate Gaussian test bundle\n");
        return path;
    }

    /// <summary>Writes <paramref name="rows"/> simulated (θ, x) pairs as a test-set CSV: theta[0],theta[1],x[0],x[1].</summary>
    public static string WriteTestSet(string directory, int rows, ulong seed)
    {
        var batch = CreateSimulator(seed).Sample(rows, seed);
        double[] theta = batch.Get("theta"), x = batch.Get("x");
        var lines = new List<string> { "theta[0],theta[1],x[0],x[1]" };
        for (int i = 0; i < rows; i++)
            lines.Add(string.Join(",", new[] { theta[2 * i], theta[2 * i + 1], x[2 * i], x[2 * i + 1] }.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        string path = Path.Combine(directory, "test_set.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Mean(GraphBuilder g, string x, float shift)
        => g.Node("Add", [g.Node("Mul", [x, g.Scalar("gain", (float)Gain)]), g.Scalar("shift", shift)]);

    private static ModelProto Inverse(float sd, float shift)
    {
        var g = new GraphBuilder("inverse");
        string z = g.Input("z", null, 2), x = g.Input("conditions", null, 2);
        g.Node("Add", [Mean(g, x, shift), g.Node("Mul", [z, g.Scalar("sd", sd)])], "theta");
        g.Output("theta", null, 2);
        return g.Build(Info);
    }

    private static ModelProto Forward(float sd, float shift)
    {
        var g = new GraphBuilder("forward");
        string theta = g.Input("theta", null, 2), x = g.Input("conditions", null, 2);
        string z = g.Node("Div", [g.Node("Sub", [theta, Mean(g, x, shift)]), g.Scalar("sd", sd)], "z");
        // log|det ∂z/∂θ| = −2·ln sd for every row; written from z so the output has the batch shape.
        string perElement = g.Node("Add", [g.Node("Mul", [z, g.Scalar("zero", 0f)]), g.Scalar("neglogsd", -MathF.Log(sd))]);
        g.Node("ReduceSum", [perElement, g.InitializerInt64("axes", [1L], 1)], "log_det", ("keepdims", 0L));
        g.Output("z", null, 2);
        g.Output("log_det", new long?[] { null });
        return g.Build(Info);
    }
}
