using System.Text.Json;
using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// The adapter as a file: an <see cref="AdapterSpec"/> in protobuf JSON, the same text the bundle manifest's
/// <c>adapter</c> field holds. Each step is checked on its own, so an error names the step (its index and
/// transform) as well as the file.
/// </summary>
internal static class AdapterJson
{
    // The manifest writer's settings, so that an adapter file and a manifest's adapter read alike.
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    /// <summary>The transforms by their proto field name (to_array) and their JSON name (toArray); both are valid protobuf JSON.</summary>
    private static readonly Dictionary<string, string> Kinds = AdapterStep.Descriptor.Fields.InDeclarationOrder()
        .SelectMany(f => new[] { (f.Name, f.Name), (f.JsonName, f.Name) })
        .DistinctBy(p => p.Item1)
        .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);

    private static string ValidKinds => string.Join(", ", AdapterStep.Descriptor.Fields.InDeclarationOrder().Select(f => f.Name));

    internal static string Format(AdapterSpec spec) => Formatter.Format(spec);

    internal static AdapterSpec Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrEmpty(source);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw Error(source, $"not valid JSON ({ex.Message}).", ex);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(source, $"expected a JSON object {{\"steps\": [...]}}; found a JSON {Describe(root.ValueKind)}.");
            var spec = new AdapterSpec();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != "steps")
                    throw Error(source, $"unknown field '{property.Name}' at the top level; an adapter file holds only \"steps\": [...].");
                if (property.Value.ValueKind != JsonValueKind.Array)
                    throw Error(source, $"\"steps\" must be an array of transforms; found a JSON {Describe(property.Value.ValueKind)}.");
                int index = 0;
                foreach (var step in property.Value.EnumerateArray()) spec.Steps.Add(ParseStep(step, index++, source));
            }
            if (spec.Steps.Count == 0)
                throw Error(source, "the adapter has no steps; expected at least one transform in \"steps\", e.g. {\"rename\": {\"from\": \"theta\", \"to\": \"inference_variables\"}}.");
            return spec;
        }
    }

    private static AdapterStep ParseStep(JsonElement step, int index, string source)
    {
        if (step.ValueKind != JsonValueKind.Object)
            throw Error(source, $"step {index} must be an object holding one transform, e.g. {{\"log\": {{\"keys\": [\"sigma\"]}}}}; found a JSON {Describe(step.ValueKind)}.");
        var names = step.EnumerateObject().Select(p => p.Name).ToList();
        if (names.Count != 1)
            throw Error(source, $"step {index} must hold exactly one transform; found {(names.Count == 0 ? "none" : string.Join(", ", names.Select(n => $"'{n}'")))}. Valid transforms: {ValidKinds}.");
        if (!Kinds.TryGetValue(names[0], out string? kind))
            throw Error(source, $"step {index} has an unknown transform '{names[0]}'. Valid transforms: {ValidKinds}.");
        if (step.GetProperty(names[0]).ValueKind != JsonValueKind.Object)
            throw Error(source, $"step {index} ({kind}) must be an object of its fields, e.g. {{\"{kind}\": {{}}}}; found a JSON {Describe(step.GetProperty(names[0]).ValueKind)}.");
        try
        {
            return Parser.Parse<AdapterStep>(step.GetRawText());
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw Error(source, $"step {index} ({kind}) is invalid: {ex.Message}", ex);
        }
        catch (InvalidJsonException ex)
        {
            throw Error(source, $"step {index} ({kind}) is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>The proto name of a step's transform, e.g. "constrain".</summary>
    internal static string KindName(AdapterStep step)
        => step.KindCase == AdapterStep.KindOneofCase.None ? "empty" : AdapterStep.Descriptor.FindFieldByNumber((int)step.KindCase).Name;

    internal static OnnxSbiException Error(string source, string problem, Exception? inner = null)
        => new($"Adapter file '{source}': {problem}", inner);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "object",
    };
}
