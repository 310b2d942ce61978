using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests.Sampling;

/// <summary>
/// Bundles whose graphs are exact, hand-written functions for a Gaussian posterior
/// θ | x ~ N(A·x + B, S²·I) in two dimensions, so every sampler can be checked against a known answer
/// without training: the flow-matching marginal velocity, the consistency function of the
/// variance-exploding probability-flow ODE, and an affine coupling map.
/// </summary>
internal static class GaussianBundles
{
    public const float A = 0.5f;
    public const float B = 0.25f;
    public const float S = 0.3f;
    public const float Eps = 0.001f;
    public const float MaxTime = 10f;

    public static readonly OnnxModelInfo Info = new("OnnxSbi.Runtime.Tests", "0");

    /// <summary>
    /// Writes the exact bundle of <paramref name="family"/>; <paramref name="replace"/> swaps graphs by
    /// role (e.g. a deliberately broken velocity) and <paramref name="name"/> names the file.
    /// </summary>
    public static string Write(string directory, NetworkFamily family, Adapter? adapter = null,
        IReadOnlyDictionary<string, ModelProto>? replace = null, string? name = null)
    {
        adapter ??= Adapter.Create().ToArray().ConvertDtype(Dtype.Float64, Dtype.Float32)
            .Rename("theta", Adapter.InferenceVariables).Rename("x", Adapter.InferenceConditions);
        var manifest = new BundleManifest
        {
            SchemaVersion = BundleReader.SchemaVersion,
            Producer = new ProducerInfo { Name = "tests", Version = "0" },
            Family = family,
            InferenceDim = 2,
            ConditionDim = 2,
            Adapter = adapter.ToSpec(),
            Description = $"exact Gaussian posterior, {family}",
        };
        manifest.InferenceVariables.Add(new VariableSpec { Name = "theta", Shape = { 2 } });
        manifest.ConditionVariables.Add(new VariableSpec { Name = "x", Shape = { 2 } });
        var graphs = new Dictionary<string, ModelProto>();
        switch (family)
        {
            case NetworkFamily.FlowMatching:
                manifest.FlowMatching = new FlowMatchingSampler { DefaultMethod = "rk4", DefaultSteps = 50, Atol = 1e-6, Rtol = 1e-4, MinSteps = 20, MaxSteps = 10_000 };
                graphs["velocity"] = Velocity();
                break;
            case NetworkFamily.ConsistencyModel:
                manifest.Consistency = new ConsistencySampler { MaxTime = MaxTime, Eps = Eps, Sigma2 = 1, DefaultSteps = 5, S0 = 10, S1 = 50, Rho = 7, TotalSteps = 1000, TrainedDiscretizations = { 11, 21, 41, 51 } };
                graphs["consistency"] = Consistency();
                break;
            case NetworkFamily.CouplingFlow:
                manifest.CouplingFlow = new CouplingFlowSampler { Transform = "affine", Depth = 1 };
                graphs["inverse"] = Inverse();
                graphs["forward"] = Forward();
                break;
        }
        foreach (var (role, graph) in replace ?? new Dictionary<string, ModelProto>()) graphs[role] = graph;
        string path = Path.Combine(directory, $"{name ?? family.ToString()}.onnxsbi");
        BundleWriter.Write(path, manifest, graphs, "# test bundle\n");
        return path;
    }

    private static string Mean(GraphBuilder g, string c)
        => g.Node("Add", [g.Node("Mul", [c, g.Scalar("a", A)]), g.Scalar("b", B)]);

    // For θ1 ~ N(μ, S²) and θ0 ~ N(0, 1) on the path θ_t = tθ1 + (1−t)θ0, the marginal velocity
    // E[θ1 − θ0 | θ_t] is μ + (tS² − (1−t)) / (t²S² + (1−t)²) · (θ_t − tμ) (Gaussian conditioning).
    private static ModelProto Velocity()
    {
        var g = new GraphBuilder("velocity");
        string theta = g.Input("theta_t", null, 2), t = g.Input("t", null, 1), c = g.Input("conditions", null, 2);
        string mu = Mean(g, c);
        string one = g.Scalar("one", 1f);
        string s2 = g.Scalar("s2", S * S);
        string omt = g.Node("Sub", [one, t]);
        string num = g.Node("Sub", [g.Node("Mul", [t, s2]), omt]);
        string den = g.Node("Add", [g.Node("Mul", [g.Node("Mul", [t, t]), s2]), g.Node("Mul", [omt, omt])]);
        string k = g.Node("Div", [num, den]);
        string centred = g.Node("Sub", [theta, g.Node("Mul", [t, mu])]);
        g.Node("Add", [mu, g.Node("Mul", [k, centred])], "velocity");
        g.Output("velocity", null, 2);
        return g.Build(Info);
    }

    // The VE probability-flow ODE keeps (x − μ)/√(S² + t²) fixed for Gaussian data, so its
    // consistency function is f(x, t) = μ + (x − μ)·√(S² + ε²)/√(S² + t²); f(x, ε) = x.
    private static ModelProto Consistency()
    {
        var g = new GraphBuilder("consistency");
        string x = g.Input("theta_t", null, 2), t = g.Input("t", null, 1), c = g.Input("conditions", null, 2);
        string mu = Mean(g, c);
        string scale = g.Node("Div", [g.Scalar("top", MathF.Sqrt(S * S + Eps * Eps)), g.Node("Sqrt", [g.Node("Add", [g.Node("Mul", [t, t]), g.Scalar("s2", S * S)])])]);
        g.Node("Add", [mu, g.Node("Mul", [g.Node("Sub", [x, mu]), scale])], "theta");
        g.Output("theta", null, 2);
        return g.Build(Info);
    }

    private static ModelProto Inverse()
    {
        var g = new GraphBuilder("inverse");
        string z = g.Input("z", null, 2), c = g.Input("conditions", null, 2);
        g.Node("Add", [Mean(g, c), g.Node("Mul", [z, g.Scalar("s", S)])], "theta");
        g.Output("theta", null, 2);
        return g.Build(Info);
    }

    private static ModelProto Forward()
    {
        var g = new GraphBuilder("forward");
        string theta = g.Input("theta", null, 2), c = g.Input("conditions", null, 2);
        string z = g.Node("Div", [g.Node("Sub", [theta, Mean(g, c)]), g.Scalar("s", S)], "z");
        // log|det ∂z/∂θ| = −2·ln S for every row; written from z so the output has the batch shape.
        string perElement = g.Node("Add", [g.Node("Mul", [z, g.Scalar("zero", 0f)]), g.Scalar("neglogs", -MathF.Log(S))]);
        g.Node("ReduceSum", [perElement, g.InitializerInt64("axes", [1L], 1)], "log_det", ("keepdims", 0L));
        g.Output("z", null, 2);
        g.Output("log_det", new long?[] { null });
        return g.Build(Info);
    }
}
