using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// The checks a bundle must pass, shared by the reader (which refuses bad files) and the writer
/// (which refuses to produce them). Every failure is a <see cref="BundleFormatException"/> for the
/// bundle at the given path.
/// </summary>
internal static class BundleValidator
{
    /// <summary>Checks the manifest on its own: schema version, family, dimensions and the set of graph roles.</summary>
    public static void CheckManifest(string path, BundleManifest manifest)
    {
        if (manifest.SchemaVersion != BundleReader.SchemaVersion)
            throw new BundleFormatException(path,
                $"manifest schema_version is {manifest.SchemaVersion}; this reader supports schema version {BundleReader.SchemaVersion}.");

        var family = manifest.Family;
        string familyName = ProtoName(family);
        if (family == NetworkFamily.Unspecified)
            throw new BundleFormatException(path, "manifest family is NETWORK_FAMILY_UNSPECIFIED; expected FLOW_MATCHING, CONSISTENCY_MODEL or COUPLING_FLOW.");
        if (!Enum.IsDefined(family))
            throw new BundleFormatException(path, $"manifest family {(int)family} is not a known network family; expected FLOW_MATCHING, CONSISTENCY_MODEL or COUPLING_FLOW.");
        if (manifest.InferenceDim <= 0)
            throw new BundleFormatException(path, $"manifest inference_dim must be positive, received {manifest.InferenceDim}.");
        if (manifest.ConditionDim <= 0)
            throw new BundleFormatException(path, $"manifest condition_dim must be positive, received {manifest.ConditionDim}.");

        var required = GraphRoles.RequiredFor(family);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in manifest.Graphs)
        {
            if (!required.Contains(entry.Role))
                throw new BundleFormatException(path,
                    $"manifest lists a graph with role '{entry.Role}', which family {familyName} does not use; expected roles: {string.Join(", ", required)}.");
            if (!seen.Add(entry.Role))
                throw new BundleFormatException(path, $"manifest lists role '{entry.Role}' more than once.");
            if (BundleLayout.UnsafeReason(entry.Path) is { } reason)
                throw new BundleFormatException(path, $"manifest graph '{entry.Role}' has path '{entry.Path}', which {reason}.");
        }
        foreach (string role in required)
            if (!seen.Contains(role))
                throw new BundleFormatException(path, $"manifest has no '{role}' graph, which family {familyName} requires.");
        if (manifest.FlowMatching is { DefaultMethod: { Length: > 0 } method } && !Integrators.IntegratorKinds.TryParse(method, out _))
            throw new BundleFormatException(path, $"manifest flow_matching.default_method is '{method}'; expected one of {Integrators.IntegratorKinds.ValidNames}.");
    }

    /// <summary>The enum value's name in manifest.proto (e.g. FLOW_MATCHING), which is what manifest.json shows.</summary>
    private static string ProtoName(NetworkFamily family)
        => ManifestReflection.Descriptor.EnumTypes.First(e => e.ClrType == typeof(NetworkFamily))
               .FindValueByNumber((int)family)?.Name ?? ((int)family).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Checks a graph's declared inputs and outputs against the role conventions of docs/DESIGN.md:
    /// exactly the role's tensor names, float32, symbolic batch first, widths D, C or 1 from the manifest.
    /// </summary>
    public static void CheckRoleConventions(string path, BundleManifest manifest, string role, string graphPath, GraphSignature signature)
    {
        var convention = GraphRoles.All[role];
        CheckRole(path, manifest, role, graphPath, "input", convention.Inputs, signature.Inputs);
        CheckRole(path, manifest, role, graphPath, "output", convention.Outputs, signature.Outputs);
    }

    /// <summary>Checks that the manifest's <see cref="GraphEntry"/> describes the graph it points at.</summary>
    public static void CheckEntryAgreement(string path, GraphEntry entry, GraphSignature signature)
    {
        CheckEntry(path, entry, "input", entry.Inputs, signature.Inputs);
        CheckEntry(path, entry, "output", entry.Outputs, signature.Outputs);
    }

    private static void CheckRole(string path, BundleManifest manifest, string role, string graphPath, string kind,
        IReadOnlyList<RoleTensor> expected, IReadOnlyList<SignatureTensor> actual)
    {
        string where = $"graph '{role}' ({graphPath})";
        foreach (var tensor in actual)
            if (!expected.Any(e => e.Name == tensor.Name))
                throw new BundleFormatException(path,
                    $"{where} has {kind} '{tensor.Name}', which the {role} role does not define; expected {kind}s: {string.Join(", ", expected.Select(e => e.Name))}.");
        foreach (var want in expected)
        {
            var found = actual.Where(a => a.Name == want.Name).ToArray();
            if (found.Length == 0)
                throw new BundleFormatException(path, $"{where} lacks {kind} '{want.Name}', which the {role} role requires.");
            if (found.Length > 1)
                throw new BundleFormatException(path, $"{where} declares {kind} '{want.Name}' {found.Length} times.");
            var tensor = found[0];
            if (tensor.ElementType != TensorProto.Types.DataType.Float)
                throw new BundleFormatException(path,
                    $"{where} {kind} '{want.Name}' has element type {tensor.ElementType}; network-side tensors are Float (float32).");
            long[] shape = want.Shape(manifest.InferenceDim, manifest.ConditionDim);
            if (tensor.Shape is null || !tensor.Shape.AsSpan().SequenceEqual(shape))
                throw new BundleFormatException(path,
                    $"{where} {kind} '{want.Name}': expected shape {GraphSignature.Format(shape)} (D = {manifest.InferenceDim}, C = {manifest.ConditionDim}), received {GraphSignature.Format(tensor.Shape)}.");
        }
    }

    private static void CheckEntry(string path, GraphEntry entry, string kind, IReadOnlyList<TensorSpec> specs, IReadOnlyList<SignatureTensor> actual)
    {
        string where = $"manifest graph '{entry.Role}' ({entry.Path})";
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (!names.Add(spec.Name))
                throw new BundleFormatException(path, $"{where} lists {kind} '{spec.Name}' more than once.");
            var match = actual.FirstOrDefault(a => a.Name == spec.Name)
                ?? throw new BundleFormatException(path,
                    $"{where} lists {kind} '{spec.Name}', but the ONNX graph's {kind}s are: {string.Join(", ", actual.Select(a => a.Name))}.");
            if (match.Shape is null || !match.Shape.AsSpan().SequenceEqual(spec.Shape.ToArray()))
                throw new BundleFormatException(path,
                    $"{where} {kind} '{spec.Name}': the manifest says shape {GraphSignature.Format(spec.Shape)}, the ONNX graph declares {GraphSignature.Format(match.Shape)}.");
        }
        foreach (var tensor in actual)
            if (!names.Contains(tensor.Name))
                throw new BundleFormatException(path, $"{where} does not list the ONNX graph's {kind} '{tensor.Name}'.");
    }
}
