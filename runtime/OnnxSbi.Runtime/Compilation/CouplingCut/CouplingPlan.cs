using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// A coupling flow's inverse pass as the manifest describes it (<see cref="CouplingFlowSampler.InverseSteps"/>),
/// checked against the inverse graph: every coupling step's subnet is cut out of that graph as its own
/// model, so the runtime runs only the subnets in ONNX Runtime and the transforms natively.
/// </summary>
internal sealed class CouplingPlan
{
    private CouplingPlan(IReadOnlyList<InverseStep> steps, IReadOnlyList<PlanSubnet> subnets, SplineSpec? spline)
    {
        Steps = steps;
        Subnets = subnets;
        Spline = spline;
    }

    /// <summary>The steps in the order they run.</summary>
    public IReadOnlyList<InverseStep> Steps { get; }

    /// <summary>One subnet per coupling step, in step order.</summary>
    public IReadOnlyList<PlanSubnet> Subnets { get; }

    /// <summary>The spline's constants, or null for the affine transform.</summary>
    public SplineSpec? Spline { get; }

    /// <summary>
    /// The plan of a coupling bundle, or null when its manifest lists no inverse steps (the runtime then
    /// evaluates the whole inverse graph). Any inconsistency is a <see cref="BundleFormatException"/>
    /// naming the step and what is wrong.
    /// </summary>
    public static CouplingPlan? From(string path, BundleManifest manifest, ModelProto inverse)
    {
        var spec = manifest.CouplingFlow;
        if (manifest.Family != NetworkFamily.CouplingFlow || spec is null || spec.InverseSteps.Count == 0) return null;
        int d = manifest.InferenceDim, c = manifest.ConditionDim;
        int paramsPerDim;
        switch (spec.Transform)
        {
            case "affine":
                paramsPerDim = 2;
                break;
            case "spline":
                var s = spec.Spline ?? throw new BundleFormatException(path, "the coupling flow's transform is 'spline' but its manifest has no 'spline' constants.");
                if (s.Bins < 2 || !(s.Bound > 0) || !(s.MinBinSize > 0) || !(s.Bins * s.MinBinSize < 2 * s.Bound))
                    throw new BundleFormatException(path,
                        $"the spline constants are impossible: bins {s.Bins} (at least 2), bound {s.Bound} (positive), min_bin_size {s.MinBinSize} (positive, bins·min_bin_size below 2·bound).");
                paramsPerDim = 3 * s.Bins - 1;
                break;
            default:
                throw new BundleFormatException(path, $"the coupling flow's transform is '{spec.Transform}'; expected 'affine' or 'spline'.");
        }

        var graph = inverse.Graph;
        var subnets = new List<PlanSubnet>();
        for (int i = 0; i < spec.InverseSteps.Count; i++)
        {
            var step = spec.InverseSteps[i];
            string where = $"inverse step {i}";
            switch (step.KindCase)
            {
                case InverseStep.KindOneofCase.ElementwiseAffine:
                    if (step.ElementwiseAffine.Scale.Count != d || step.ElementwiseAffine.Shift.Count != d)
                        throw new BundleFormatException(path,
                            $"{where} (elementwise_affine) has {step.ElementwiseAffine.Scale.Count} scales and {step.ElementwiseAffine.Shift.Count} shifts; expected {d} each (inference_dim).");
                    if (step.ElementwiseAffine.Scale.Concat(step.ElementwiseAffine.Shift).Any(v => !float.IsFinite(v)))
                        throw new BundleFormatException(path, $"{where} (elementwise_affine) holds a non-finite value.");
                    break;
                case InverseStep.KindOneofCase.Permute:
                    var order = step.Permute.Order;
                    if (order.Count != d || order.Any(k => k < 0 || k >= d) || order.Distinct().Count() != d)
                        throw new BundleFormatException(path,
                            $"{where} (permute) has order [{string.Join(", ", order)}]; expected a permutation of 0 … {d - 1}.");
                    break;
                case InverseStep.KindOneofCase.Linear:
                    if (step.Linear.Matrix.Count != d * d || step.Linear.Matrix.Any(v => !float.IsFinite(v)))
                        throw new BundleFormatException(path,
                            $"{where} (linear) must hold {d}×{d} = {d * d} finite values; it holds {step.Linear.Matrix.Count}.");
                    break;
                case InverseStep.KindOneofCase.Coupling:
                    var cs = step.Coupling;
                    if (cs.TransformedWidth <= 0 || cs.TransformedOffset < 0 || cs.TransformedOffset + cs.TransformedWidth > d
                        || cs.KeptWidth < 0 || cs.KeptOffset < 0 || cs.KeptOffset + cs.KeptWidth > d
                        || (cs.KeptWidth > 0 && cs.KeptOffset < cs.TransformedOffset + cs.TransformedWidth && cs.TransformedOffset < cs.KeptOffset + cs.KeptWidth))
                        throw new BundleFormatException(path,
                            $"{where} (coupling) transforms columns [{cs.TransformedOffset}, {cs.TransformedOffset + cs.TransformedWidth}) conditioned on [{cs.KeptOffset}, {cs.KeptOffset + cs.KeptWidth}); both must lie in [0, {d}) and not overlap.");
                    int inputWidth = cs.KeptWidth + c, outputWidth = cs.TransformedWidth * paramsPerDim;
                    subnets.Add(new PlanSubnet(Extract(path, where, inverse, cs.SubnetInput, inputWidth, cs.SubnetOutput, outputWidth),
                        cs.SubnetInput, inputWidth, cs.SubnetOutput, outputWidth));
                    break;
                default:
                    throw new BundleFormatException(path, $"{where} has no kind; expected elementwise_affine, permute, linear or coupling.");
            }
        }
        return new CouplingPlan(spec.InverseSteps.ToArray(), subnets, spec.Transform == "spline" ? spec.Spline : null);
    }

    /// <summary>
    /// The part of <paramref name="model"/> that computes <paramref name="output"/> from <paramref name="input"/>
    /// and initializers, as a model with that one input [N, inputWidth] and output [N, outputWidth].
    /// </summary>
    internal static byte[] Extract(string path, string where, ModelProto model, string input, int inputWidth, string output, int outputWidth)
    {
        var graph = model.Graph;
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (string o in graph.Node[i].Output) producers[o] = i;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        bool isGraphInput = graph.Input.Any(v => v.Name == input);
        if (!isGraphInput && !producers.ContainsKey(input))
            throw new BundleFormatException(path, $"{where}: subnet_input '{input}' is no tensor of the inverse graph.");
        if (!producers.ContainsKey(output))
            throw new BundleFormatException(path, $"{where}: subnet_output '{output}' is not computed by the inverse graph.");

        var keep = new bool[graph.Node.Count];
        var usedInitializers = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { output };
        pending.Push(output);
        while (pending.Count > 0)
        {
            string name = pending.Pop();
            if (name == input) continue;
            if (producers.TryGetValue(name, out int n))
            {
                keep[n] = true;
                foreach (string i in graph.Node[n].Input)
                    if (i.Length > 0 && seen.Add(i)) pending.Push(i);
            }
            else if (initializers.ContainsKey(name)) usedInitializers.Add(name);
            else
                throw new BundleFormatException(path,
                    $"{where}: subnet_output '{output}' depends on '{name}', which is neither computed from subnet_input '{input}' nor an initializer.");
        }

        var sub = new GraphProto { Name = $"{graph.Name}_{output}" };
        for (int i = 0; i < graph.Node.Count; i++)
            if (keep[i]) sub.Node.Add(graph.Node[i]);
        foreach (string name in usedInitializers) sub.Initializer.Add(initializers[name]);
        sub.Input.Add(FloatMatrix(input, inputWidth));
        sub.Output.Add(FloatMatrix(output, outputWidth));
        var result = new ModelProto { IrVersion = model.IrVersion, ProducerName = model.ProducerName, ProducerVersion = model.ProducerVersion, Graph = sub };
        result.OpsetImport.Add(model.OpsetImport);
        return result.ToByteArray();
    }

    /// <summary>A float graph input or output [N, <paramref name="width"/>] with the symbolic batch dimension.</summary>
    internal static ValueInfoProto FloatMatrix(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = GraphBuilder.BatchDim });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

/// <summary>
/// A coupling step's subnet cut out of the inverse graph: the serialized ONNX model, its one input
/// [N, kept half + C] and its one output [N, transformed half · parameters per dimension].
/// </summary>
internal sealed record PlanSubnet(byte[] Model, string Input, int InputWidth, string Output, int OutputWidth);
