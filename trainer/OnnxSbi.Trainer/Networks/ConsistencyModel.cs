using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Trainer.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// Options of consistency model posterior estimation. The defaults are those of the newer BayesFlow
/// <c>ConsistencyModel</c> (after 2.0.8): T = 80, s1 = 150, and the subnet sees t/T. Older releases
/// used s1 = 50 and T = 200 (2.0.8) and fed t unscaled; set <paramref name="S1"/> and
/// <paramref name="MaxTime"/> to reproduce them.
/// </summary>
/// <param name="Subnet">The residual MLP F over concat(θ_t, t/T, c).</param>
/// <param name="MaxTime">T: the largest noise level; sampling starts from θ = T·z.</param>
/// <param name="Sigma2">σ²: the scale of the skip connection c_skip(t) = σ²/((t − ε)² + σ²).</param>
/// <param name="Eps">ε: the smallest noise level, where f(θ, ε) = θ.</param>
/// <param name="S0">Initial number of discretization intervals (a whole number).</param>
/// <param name="S1">Final number of discretization intervals (a whole number ≥ S0).</param>
/// <param name="Rho">ρ of the Karras time grid.</param>
/// <param name="TotalSteps">K_total: the optimizer steps of the whole training run (epochs × batches per epoch),
/// over which the discretization grows from S0 + 1 to S1 + 1 points. BayesFlow requires it; the default is the
/// seed's 512 batches × 50 epochs.</param>
/// <param name="PMean">Mean of the lognormal noise-level distribution that weights the training intervals.</param>
/// <param name="PStd">Standard deviation of that lognormal distribution.</param>
/// <param name="DefaultSteps">Network evaluations of the multistep sampler recorded as the runtime default.
/// 10 steps walk the 11-point grid the training starts with (see <see cref="ConsistencySchedule.SamplingTimes"/>).</param>
public sealed record ConsistencyModelOptions(
    MlpOptions Subnet,
    double MaxTime = 80,
    double Sigma2 = 1.0,
    double Eps = 0.001,
    double S0 = 10,
    double S1 = 150,
    double Rho = 7,
    long TotalSteps = 512 * 50,
    double PMean = -1.1,
    double PStd = 2.0,
    int DefaultSteps = 10)
{
    /// <summary>BayesFlow's defaults: MLP (256,)×5 with mish and dropout 0.05, T = 80, s0 = 10, s1 = 150.</summary>
    public static ConsistencyModelOptions Default { get; } = new(MlpOptions.Default);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible value.</summary>
    public void Validate()
    {
        if (Subnet is null) throw new ArgumentException("Subnet must be given, e.g. MlpOptions.Default.");
        Subnet.Validate();
        if (!(Eps > 0) || !double.IsFinite(Eps)) throw new ArgumentException($"Eps must be positive and finite; got {Eps}.");
        if (!double.IsFinite(MaxTime) || !((float)MaxTime > (float)Eps))
            throw new ArgumentException($"MaxTime must be finite and greater than Eps = {Eps} (in float32); got {MaxTime}.");
        if (!(Sigma2 > 0) || !double.IsFinite(Sigma2)) throw new ArgumentException($"Sigma2 must be positive and finite; got {Sigma2}.");
        if (!(S0 >= 1) || S0 != Math.Floor(S0) || S0 > 1e6) throw new ArgumentException($"S0 must be a whole number in [1, 1e6]; got {S0}.");
        if (!(S1 >= S0) || S1 != Math.Floor(S1) || S1 > 1e6) throw new ArgumentException($"S1 must be a whole number in [S0 = {S0}, 1e6]; got {S1}.");
        if (!(Rho > 0) || !double.IsFinite(Rho)) throw new ArgumentException($"Rho must be positive and finite; got {Rho}.");
        if (!double.IsFinite(PMean)) throw new ArgumentException($"PMean must be finite; got {PMean}.");
        if (!(PStd > 0) || !double.IsFinite(PStd)) throw new ArgumentException($"PStd must be positive and finite; got {PStd}.");
        double stages = Math.Log2(Math.Floor(S1 / S0)) + 1;
        if (TotalSteps < stages)
            throw new ArgumentException(
                $"TotalSteps must be at least log2⌊S1/S0⌋ + 1 = {stages:G4} so that every discretization stage lasts a step; got {TotalSteps}. " +
                "Set it to epochs × batches per epoch.");
        if (DefaultSteps < 1) throw new ArgumentException($"DefaultSteps must be at least 1; got {DefaultSteps}.");
    }
}

/// <summary>
/// Consistency model posterior estimation with consistency training (Song et al. 2023; Song &amp; Dhariwal
/// 2023; Schmitt et al. 2024; docs/algorithms.md#consistency-models). The consistency function
/// f(θ, t, c) = c_skip(t)·θ + c_out(t)·F(θ, t/T, c) maps a point θ = θ₀ + t·z of the noising path back to
/// its origin θ₀; the parametrization makes f(θ, ε, c) = θ exactly. Training pulls f at adjacent noise
/// levels of a growing Karras grid together; sampling needs only a few evaluations of f.
/// </summary>
public sealed class ConsistencyModel : PosteriorNetwork
{
    /// <summary>
    /// The seed recipe, "consistency_model": MLP (64,)×6, dropout 0, max_time 10, sigma2 1.0, total_steps = the run's
    /// steps (512·800), 800 epochs, BayesFlow's 10 sampling steps. Consistency training refines its discretization
    /// over the whole schedule and gains far more from a long one than from width: this network, trained 16 times as
    /// many epochs as the seed's (256,)×6, scores a better C2ST with one sixteenth of the network work per draw,
    /// which the runtime's latency target for 10 steps × 3,000 draws needs (measured: docs/two-moons.md#recipes).
    /// </summary>
    public static NetworkRecipe Recipe { get; } = new("consistency_model", "Consistency Model", RecipeEpochs,
        (d, c, o) => new ConsistencyModel(d, c, new ConsistencyModelOptions(o.Subnet(Enumerable.Repeat(64, 6).ToArray(), 0.0),
            MaxTime: 10, Sigma2: 1.0, TotalSteps: o.TotalSteps > 0 ? o.TotalSteps : (long)o.BatchesPerEpoch * RecipeEpochs, DefaultSteps: 10)));

    private const int RecipeEpochs = 800;

    // The Huber constant of Song & Dhariwal (2023, §3.3), scaled by √D like their √(3·64·64) for images.
    private const double HuberPerSqrtDim = 0.00054;

    private readonly ResidualMlp mlp;
    private readonly Dense output;
    private readonly float eps, maxTime, sigma2, sigma;
    private readonly double huber;
    private readonly Dictionary<int, (float[] Grid, double[] Weights, float[] Lambda)> discretizations = [];

    /// <summary>Builds the network for D inference variables and C conditions.</summary>
    public ConsistencyModel(int inferenceDim, int conditionDim, ConsistencyModelOptions options)
        : base("consistency_model", inferenceDim, conditionDim)
    {
        options.Validate();
        Options = options;
        mlp = new ResidualMlp("subnet", inferenceDim + 1 + conditionDim, options.Subnet);
        // A zero output layer starts f at c_skip(t)·θ, as older BayesFlow releases do (newer ones use Keras' Glorot default).
        output = new Dense("output", mlp.OutFeatures, inferenceDim, DenseInit.Zeros);
        eps = (float)options.Eps;
        maxTime = (float)options.MaxTime;
        sigma2 = (float)options.Sigma2;
        sigma = (float)Math.Sqrt(options.Sigma2);
        huber = HuberPerSqrtDim * Math.Sqrt(inferenceDim);
        RegisterComponents();
    }

    /// <summary>The options the network was built with.</summary>
    public ConsistencyModelOptions Options { get; }

    /// <inheritdoc />
    public override NetworkFamily Family => NetworkFamily.ConsistencyModel;

    /// <summary>
    /// The consistency function f(θ_t, t, c): [B, D], [B, 1], [B, C] → [B, D], with t in [ε, T].
    /// Dropout is active in training mode. The exported "consistency" graph computes the same function
    /// with the same float32 operations.
    /// </summary>
    public Tensor Consistency(Tensor thetaT, Tensor t, Tensor conditions)
    {
        CheckShape("theta_t", thetaT, AnyRows, InferenceDim);
        long batch = thetaT.shape[0];
        CheckShape("t", t, batch, 1);
        CheckShape("conditions", conditions, batch, ConditionDim);
        using var scope = NewDisposeScope();
        // F sees t/T ∈ (0, 1] (newer BayesFlow) so that the raw noise level up to T does not swamp θ and c.
        var input = cat([thetaT, t / maxTime, conditions], 1);
        var f = output.forward(mlp.forward(input));
        // Song et al. 2023, eq. 3 with σ_data² = σ²: c_skip(ε) = 1 and c_out(ε) = 0, so f(θ, ε) = θ.
        var d = t - eps;
        var cSkip = sigma2 / (d * d + sigma2);
        var cOut = sigma * d / (sigma2 + t * t).sqrt();
        return (cSkip * thetaT + cOut * f).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <remarks>
    /// Consistency training (Song &amp; Dhariwal 2023, Algorithm 1 with §3): each row draws an interval
    /// [t_i, t_{i+1}] of the current grid N(step) with lognormal weights and one z ~ N(0, I); the teacher
    /// f(θ + t_i·z, t_i) is evaluated without gradient, the student f(θ + t_{i+1}·z, t_{i+1}) with it, and
    /// the loss is the mean of λ·(√((student − teacher)² + c²) − c) with λ = 1/(t_{i+1} − t_i).
    /// </remarks>
    public override Tensor ComputeLoss(Tensor theta, Tensor conditions, long step, Generator generator)
    {
        CheckShape("inference_variables", theta, AnyRows, InferenceDim);
        CheckShape("inference_conditions", conditions, theta.shape[0], ConditionDim);
        using var scope = NewDisposeScope();
        long batch = theta.shape[0];
        // Past TotalSteps the schedule stays at its last stage, as BayesFlow clamps its step counter.
        int n = ConsistencySchedule.Discretization(Math.Min(step, Options.TotalSteps - 1), Options.TotalSteps, Options.S0, Options.S1);
        var (gridValues, weightValues, lambdaValues) = Discretized(n);
        var grid = tensor(gridValues);
        var index = multinomial(tensor(weightValues), batch, replacement: true, generator: generator);
        var t1 = grid.index_select(0, index).unsqueeze(1);
        var t2 = grid.index_select(0, index + 1).unsqueeze(1);
        var lambda = tensor(lambdaValues).index_select(0, index).unsqueeze(1);
        var z = randn(theta.shape, generator: generator);
        Tensor teacher;
        using (no_grad()) teacher = Consistency(theta + t1 * z, t1, conditions);
        var student = Consistency(theta + t2 * z, t2, conditions);
        var diff = student - teacher;
        var loss = lambda * ((diff * diff + huber * huber).sqrt() - huber);
        return loss.mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws one posterior sample per row of <paramref name="conditions"/> [B, C] with the multistep
    /// sampler (Song et al. 2023, Algorithm 1) over <see cref="ConsistencySchedule.SamplingTimes"/>:
    /// θ = T·z, θ ← f(θ, T), then θ ← f(θ + √(τ_n² − ε²)·ξ, τ_n) for each later τ_n. Runs without
    /// gradient in inference mode (dropout off) and restores the module's mode; returns [B, D].
    /// </summary>
    public Tensor Sample(Tensor conditions, int steps, Generator generator)
    {
        if (steps < 1) throw new InvalidRequestException($"steps must be at least 1; got {steps}.");
        CheckShape("conditions", conditions, AnyRows, ConditionDim);
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            long batch = conditions.shape[0];
            double[] times = ConsistencySchedule.SamplingTimes(steps, Options.Eps, Options.MaxTime, Options.Rho);
            var theta = randn([batch, InferenceDim], generator: generator) * maxTime;
            theta = Consistency(theta, full([batch, 1], (float)times[0]), conditions);
            for (int i = 1; i < times.Length; i++)
            {
                var xi = randn([batch, InferenceDim], generator: generator);
                double noise = Math.Sqrt(times[i] * times[i] - Options.Eps * Options.Eps);
                theta = Consistency(theta + (float)noise * xi, full([batch, 1], (float)times[i]), conditions);
            }
            return theta.MoveToOuterDisposeScope();
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    /// <inheritdoc />
    /// <remarks>One graph, role "consistency": theta_t [N, D], t [N, 1], conditions [N, C] → theta [N, D].</remarks>
    public override ExportedGraphs ExportGraphs(OnnxModelInfo info)
    {
        var g = new GraphBuilder("consistency_function");
        string thetaT = g.Input(TensorNames.ThetaT, null, InferenceDim);
        string t = g.Input(TensorNames.Time, null, 1);
        string c = g.Input(TensorNames.Conditions, null, ConditionDim);
        string scaled = g.Node("Div", [t, g.Scalar("max_time", maxTime)]);
        string input = g.Node("Concat", [thetaT, scaled, c], attributes: ("axis", 1L));
        var blocks = new List<ResidualBlock>();
        string hidden = mlp.Emit(g, input, "subnet", blocks);
        string f = output.Emit(g, hidden, "output");
        // The same operations in the same order as Consistency(), so both round alike.
        string s2 = g.Scalar("sigma2", sigma2);
        string d = g.Node("Sub", [t, g.Scalar("eps", eps)]);
        string cSkip = g.Node("Div", [s2, g.Node("Add", [g.Node("Mul", [d, d]), s2])]);
        string cOut = g.Node("Div", [g.Node("Mul", [g.Scalar("sigma", sigma), d]), g.Node("Sqrt", [g.Node("Add", [s2, g.Node("Mul", [t, t])])])]);
        g.Node("Add", [g.Node("Mul", [cSkip, thetaT]), g.Node("Mul", [cOut, f])], TensorNames.Theta);
        g.Output(TensorNames.Theta, null, InferenceDim);
        return new ExportedGraphs(
            new Dictionary<string, ModelProto> { [GraphRoles.Consistency] = g.Build(info) },
            new Dictionary<string, IReadOnlyList<ResidualBlock>> { [GraphRoles.Consistency] = blocks });
    }

    /// <inheritdoc />
    public override void DescribeSampler(BundleManifest manifest)
    {
        var sampler = new ConsistencySampler
        {
            MaxTime = Options.MaxTime,
            Eps = Options.Eps,
            Sigma2 = Options.Sigma2,
            DefaultSteps = Options.DefaultSteps,
            S0 = Options.S0,
            S1 = Options.S1,
            Rho = Options.Rho,
            TotalSteps = Options.TotalSteps,
        };
        sampler.TrainedDiscretizations.Add(ConsistencySchedule.TrainedDiscretizations(Options.TotalSteps, Options.S0, Options.S1));
        manifest.Consistency = sampler;
    }

    /// <inheritdoc />
    public override object Describe() => Options;

    /// <summary>The float32 grid, the interval weights and λ = 1/(t_{i+1} − t_i) for N = <paramref name="n"/>, computed once.</summary>
    private (float[] Grid, double[] Weights, float[] Lambda) Discretized(int n)
    {
        if (discretizations.TryGetValue(n, out var cached)) return cached;
        double[] grid = ConsistencySchedule.TimeGrid(n, Options.Eps, Options.MaxTime, Options.Rho);
        double[] weights = ConsistencySchedule.IndexWeights(grid, Options.PMean, Options.PStd);
        // λ from the double-precision grid: the float32 difference of two close times loses digits.
        var lambda = new float[n - 1];
        for (int i = 0; i < lambda.Length; i++) lambda[i] = (float)(1.0 / (grid[i + 1] - grid[i]));
        var entry = (grid.Select(v => (float)v).ToArray(), weights, lambda);
        discretizations[n] = entry;
        return entry;
    }

    private const long AnyRows = -1;

    /// <summary>Throws unless <paramref name="x"/> is [rows, columns]; <see cref="AnyRows"/> accepts any row count.</summary>
    private static void CheckShape(string name, Tensor x, long rows, long columns)
    {
        if (x.dim() != 2 || (rows != AnyRows && x.shape[0] != rows) || x.shape[1] != columns)
            throw new ShapeMismatchException(name, $"[{(rows == AnyRows ? "B" : rows.ToString())}, {columns}]", $"[{string.Join(", ", x.shape)}]");
    }
}
