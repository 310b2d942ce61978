using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Graphs;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Builds one ONNX model that runs a whole sampling loop — every step of a fixed-step Runge–Kutta
/// integration of a velocity field, or every step of the multistep consistency sampler — as an ONNX
/// <c>Loop</c> whose body holds the network (inlined once per stage, weights shared). One session run then
/// does all the steps of a block: with the CUDA provider the state stays on the device from the first
/// step to the last, and only the block's inputs and its final state cross the bus.
/// </summary>
/// <remarks>
/// The loop reads its step times from an input, so one model serves every step count. Arithmetic is
/// float32 throughout, where the host loop (<see cref="OdeIntegrator"/>) sums each stage in double and
/// rounds once: the two agree to float32 rounding (tested), not bit for bit.
/// </remarks>
internal static class SolverLoopGraph
{
    /// <summary>Initial state [N, D] (noise for flow matching, T·z for the consistency sampler).</summary>
    public const string InitialState = "theta_0";

    /// <summary>Step times: flow matching, the S + 1 grid points t_0 … t_S; consistency, the S times τ_0 … τ_{S−1}.</summary>
    public const string Times = "times";

    /// <summary>Consistency only: the noise scale of each step [S] (0 for the first).</summary>
    public const string NoiseScales = "noise_scales";

    /// <summary>Consistency only: the noise of each step [S, N, D] (step 0 unused).</summary>
    public const string Noise = "noise";

    /// <summary>The final state [N, D].</summary>
    public const string FinalState = "theta_final";

    private const string StepIn = "step_in";
    private const string StepOut = "step_out";

    /// <summary>
    /// The loop model's inputs in binding order — initial state, conditions (TensorNames.Conditions, passed to every
    /// evaluation unchanged), times and, for the consistency loop, noise scales and noise — and its output.
    /// </summary>
    public static (OnnxPort[] Inputs, OnnxPort[] Outputs) Ports(int d, int c, bool consistency)
    {
        OnnxPort[] inputs =
        [
            OnnxPort.PerRow(InitialState, d),
            OnnxPort.PerRow(TensorNames.Conditions, c),
            new(Times, (_, steps) => [consistency ? steps : steps + 1]),
            .. consistency ? [new OnnxPort(NoiseScales, (_, steps) => [steps]), new OnnxPort(Noise, (rows, steps) => [steps, rows, d])] : Array.Empty<OnnxPort>(),
        ];
        return (inputs, [OnnxPort.PerRow(FinalState, d)]);
    }

    /// <summary>Indices into <see cref="OnnxFunction.Evaluation.Inputs"/> of a loop's evaluation (see <see cref="Ports"/>).</summary>
    public const int StateInput = 0, ConditionsInput = 1, TimesInput = 2, NoiseScalesInput = 3, NoiseInput = 4;

    /// <summary>
    /// The loop θ_{s+1} = θ_s + h_s·Σ_i b_i·k_i, k_i = v(θ_s + h_s·Σ_j a_ij·k_j, t_s + c_i·h_s, c), h_s = t_{s+1} − t_s,
    /// over s = 0 … S − 1, for the velocity graph <paramref name="velocityModel"/> (output "velocity").
    /// </summary>
    public static byte[] FixedStep(byte[] velocityModel, ButcherTableau tableau, int d)
    {
        if (tableau.E is not null)
            throw new ArgumentException($"The '{tableau.Name}' method is adaptive; a solver loop graph runs fixed-step methods only.", nameof(tableau));
        return Build(velocityModel, TensorNames.Velocity, d, consistency: false, (body, network) =>
        {
            string t = body.Node("Gather", [Times, StepIn]);
            string next = body.Node("Gather", [Times, StepOut]);
            string h = body.Node("Sub", [next, t]);
            var k = new string[tableau.Stages];
            for (int i = 0; i < tableau.Stages; i++)
            {
                string stageTime = tableau.C[i] == 0 ? t : body.Node("Add", [t, body.Node("Mul", [h, body.Constant((float)tableau.C[i])])]);
                k[i] = network(body.Combine("theta_in", k, tableau.A[i], h), stageTime, $"s{i}");
            }
            return body.Combine("theta_in", k, tableau.B, h);
        });
    }

    /// <summary>
    /// The multistep consistency loop θ ← f(θ + σ_n·ξ_n, τ_n) over n = 0 … S − 1, for the consistency
    /// function graph <paramref name="consistencyModel"/> (output "theta"); σ_0 = 0.
    /// </summary>
    public static byte[] Consistency(byte[] consistencyModel, int d)
        => Build(consistencyModel, TensorNames.Theta, d, consistency: true, (body, network) =>
        {
            string t = body.Node("Gather", [Times, StepIn]);
            string scale = body.Node("Gather", [NoiseScales, StepIn]);
            string xi = body.Node("Gather", [Noise, StepIn]);
            string input = body.Node("Add", ["theta_in", body.Node("Mul", [xi, scale])]);
            return network(input, t, "s0");
        });

    /// <summary>
    /// The loop model around <paramref name="networkModel"/> (its output <paramref name="networkOutput"/>, state width
    /// <paramref name="d"/>; the <paramref name="consistency"/> loop has the noise inputs). <paramref name="step"/> writes one
    /// step into the body from the state "theta_in", given a function that inlines the network on (state, scalar time,
    /// name prefix) and returns its output; it returns the new state. The network has the inputs and output of its
    /// role (GraphRoles; checked by the bundle reader).
    /// </summary>
    private static byte[] Build(byte[] networkModel, string networkOutput, int d, bool consistency, Func<Body, Func<string, string, string, string>, string> step)
    {
        var source = ModelProto.Parser.ParseFrom(networkModel);
        var net = source.Graph;
        var weights = new HashSet<string>(net.Initializer.Select(i => i.Name), StringComparer.Ordinal);

        var main = new GraphProto { Name = consistency ? "consistency_loop" : "ode_loop" };
        main.Initializer.Add(net.Initializer);
        main.Input.Add(FloatInput(InitialState, null, d));
        main.Input.Add(net.Input.First(v => v.Name == TensorNames.Conditions));
        main.Input.Add(FloatInput(Times, consistency ? "S" : "S_plus_1"));
        if (consistency)
        {
            main.Input.Add(FloatInput(NoiseScales, "S"));
            main.Input.Add(FloatInput(Noise, "S", null, d));
        }
        main.Output.Add(FloatInput(FinalState, null, d));

        var outer = new Body(main, "outer/");
        // Ones [N, 1], made once per run: each evaluation's time column is t times it, so the body needs no shape
        // tensor (a shape input is host memory on a device provider).
        string rows = outer.Node("Shape", [InitialState], ("end", 1L));
        string column = outer.Node("Concat", [rows, outer.Constant(new long[] { 1 })], ("axis", 0L));
        string ones = outer.Node("Expand", [outer.Constant(1f), column]);
        string count = outer.Node("Shape", [Times]);
        if (!consistency) count = outer.Node("Sub", [count, outer.Constant(new long[] { 1 })]);
        string trips = outer.Node("Squeeze", [count, outer.Constant(new long[] { 0 })]);
        string always = outer.BoolConstant(true);

        var graph = new GraphProto { Name = "step" };
        graph.Input.Add(ScalarInput("iter", TensorProto.Types.DataType.Int64));
        graph.Input.Add(ScalarInput("cond_in", TensorProto.Types.DataType.Bool));
        graph.Input.Add(FloatInput("theta_in", null, d));
        graph.Input.Add(ScalarInput(StepIn, TensorProto.Types.DataType.Int64));
        var body = new Body(graph, "loop/");
        // The step index is carried by the loop itself (StepIn → StepOut) instead of read from "iter": the iteration
        // number lives in host memory, and reading it on a device would copy it there every step.
        graph.Node.Add(new NodeProto { OpType = "Add", Name = "next_step", Input = { StepIn, body.Constant(1L) }, Output = { StepOut } });
        string Network(string state, string time, string prefix)
        {
            string timeColumn = body.Node("Mul", [ones, time]);
            var map = new Dictionary<string, string>(StringComparer.Ordinal) { [TensorNames.ThetaT] = state, [TensorNames.Time] = timeColumn, [TensorNames.Conditions] = TensorNames.Conditions };
            string Rename(string name) => name.Length == 0 || weights.Contains(name) ? name : map.TryGetValue(name, out var m) ? m : $"{prefix}/{name}";
            foreach (var node in net.Node)
            {
                var copy = node.Clone();
                copy.Name = $"{prefix}/{node.Name}";
                for (int i = 0; i < copy.Input.Count; i++) copy.Input[i] = Rename(copy.Input[i]);
                for (int i = 0; i < copy.Output.Count; i++) copy.Output[i] = Rename(copy.Output[i]);
                graph.Node.Add(copy);
            }
            return Rename(networkOutput);
        }
        string final = step(body, Network);
        graph.Node.Add(new NodeProto { OpType = "Identity", Name = "state_out", Input = { final }, Output = { "theta_out" } });
        // The condition passes straight through, so no node computes it: on a device, a computed condition would be
        // copied back to the host after every step for the loop to read.
        graph.Output.Add(ScalarInput("cond_in", TensorProto.Types.DataType.Bool));
        graph.Output.Add(FloatInput("theta_out", null, d));
        graph.Output.Add(ScalarInput(StepOut, TensorProto.Types.DataType.Int64));

        string firstStep = outer.Constant(0L);
        var loop = new NodeProto { OpType = "Loop", Name = "solver_loop", Input = { trips, always, InitialState, firstStep }, Output = { FinalState, "steps_done" } };
        loop.Attribute.Add(GraphBuilder.Attribute("body", graph));
        main.Node.Add(loop);

        var model = new ModelProto
        {
            IrVersion = Math.Max(source.IrVersion, 8),
            ProducerName = "OnnxSbi.Runtime",
            DocString = consistency ? "Multistep consistency sampling loop" : "Fixed-step Runge-Kutta loop",
            Graph = main,
        };
        model.OpsetImport.Add(source.OpsetImport);
        return model.ToByteArray();
    }

    private static ValueInfoProto FloatInput(string name, params object?[] dims) => Value(name, TensorProto.Types.DataType.Float, dims);

    private static ValueInfoProto ScalarInput(string name, TensorProto.Types.DataType type) => Value(name, type);

    // A dimension is a fixed size (int), a symbolic name (string) or N (null).
    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object? dim in dims)
            shape.Dim.Add(dim is int size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = dim as string ?? GraphBuilder.BatchDim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    /// <summary>Appends nodes and constants to one graph, naming every new value uniquely.</summary>
    private sealed class Body(GraphProto graph, string prefix)
    {
        private int counter;

        public string Node(string op, string[] inputs, params (string Name, long Value)[] attributes)
        {
            string output = $"{prefix}{op.ToLowerInvariant()}_{counter++}";
            var node = new NodeProto { OpType = op, Name = output, Input = { inputs }, Output = { output } };
            foreach (var (name, value) in attributes)
                node.Attribute.Add(GraphBuilder.Attribute(name, value));
            graph.Node.Add(node);
            return output;
        }

        public string Constant(float value) => Constant(new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, FloatData = { value } });

        public string Constant(long value) => Constant(new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Int64Data = { value } });

        public string Constant(long[] values) => Constant(new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length }, Int64Data = { values } });

        public string BoolConstant(bool value) => Constant(new TensorProto { DataType = (int)TensorProto.Types.DataType.Bool, Int32Data = { value ? 1 : 0 } });

        private string Constant(TensorProto value)
        {
            string output = $"{prefix}const_{counter++}";
            var node = new NodeProto { OpType = "Constant", Name = output, Output = { output } };
            node.Attribute.Add(GraphBuilder.Attribute("value", value));
            graph.Node.Add(node);
            return output;
        }

        /// <summary>y + Σ_j (h·w_j)·k_j over the nonzero weights (y alone when there are none).</summary>
        public string Combine(string y, string[] k, double[] weights, string h)
        {
            string sum = y;
            for (int j = 0; j < weights.Length; j++)
            {
                if (weights[j] == 0) continue;
                string scaled = Node("Mul", [k[j], Node("Mul", [h, Constant((float)weights[j])])]);
                sum = Node("Add", [sum, scaled]);
            }
            return sum;
        }
    }
}
