using OnnxSbi.Runtime;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.External;

/// <summary>
/// Turns response archives into batches and checks them: every expected variable present, each with the requested
/// rows as leading dimension, and the same variables and per-sample shapes as the first response (which fixes them).
/// Thread-safe: workers answer in parallel.
/// </summary>
internal sealed class ResponseSchema(ExternalSimulatorOptions options)
{
    private readonly Lock gate = new();
    private List<(string Name, int[] Shape)>? variables;

    /// <summary>The variables and per-sample shapes fixed by the first response, or null before it.</summary>
    public IReadOnlyList<(string Name, int[] Shape)>? Variables
    {
        get { lock (gate) return variables; }
    }

    /// <summary>Reads and checks one response to a request of <paramref name="batchSize"/> rows.</summary>
    /// <exception cref="ExternalSimulatorException">The archive cannot be read, or a variable is missing, extra, misshapen or non-finite.</exception>
    public ArrayBatch Read(byte[] payload, int batchSize, ulong seed, SimulatorProcess child)
    {
        string request = SimulatorProcess.RequestLine(batchSize, seed);
        ExternalSimulatorException Error(string problem, Exception? inner = null) => new(options.Command,
            $"The simulator '{options.Command}' (worker {child.Worker}) answered the request {request} with {problem}", child.StandardErrorTail(), inner);

        IReadOnlyDictionary<string, NpyArray> arrays;
        try
        {
            using var stream = new MemoryStream(payload, writable: false);
            arrays = NpzArchive.Read(stream, "response");
        }
        catch (DataFileException e)
        {
            throw Error($"an archive that cannot be read: {e.Message}", e);
        }

        foreach (string name in options.ExpectedVariables ?? [])
            if (!arrays.ContainsKey(name))
                throw Error($"no variable '{name}'; it holds {List(arrays.Keys)}. Every response must hold {List(options.ExpectedVariables!)}.");
        var batch = new ArrayBatch(batchSize);
        var names = Variables?.Select(v => v.Name).ToList() ?? [.. arrays.Keys];
        foreach (string name in names)
        {
            if (!arrays.TryGetValue(name, out var array))
                throw Error($"no variable '{name}'; it holds {List(arrays.Keys)}. The first response fixed the variables: {List(names)}.");
            if (array.Shape.Count == 0 || array.Shape[0] != batchSize)
                throw Error($"variable '{name}' of shape {array.ShapeText}; expected a leading dimension of {batchSize} (the rows asked for), i.e. ({batchSize}, …).");
            var shape = new int[array.Shape.Count - 1];
            for (int k = 0; k < shape.Length; k++)
                shape[k] = array.Shape[k + 1] <= int.MaxValue ? (int)array.Shape[k + 1] : throw Error($"variable '{name}' of shape {array.ShapeText}, too large a sample.");
            batch.Set(name, array.Data, shape);
        }
        if (Variables is { } known)
        {
            foreach (string name in arrays.Keys)
                if (!known.Any(v => v.Name == name))
                    throw Error($"variable '{name}', which the first response did not hold ({List(known.Select(v => v.Name))}); every response must hold the same variables.");
        }

        if (options.RejectNonFinite)
        {
            foreach (string name in batch.Names)
            {
                var data = batch.Get(name);
                int width = Math.Max(1, batch.Width(name));
                for (int i = 0; i < data.Length; i++)
                {
                    if (double.IsFinite(data[i])) continue;
                    throw Error($"{data[i]} in variable '{name}' at row {i / width} (of {batchSize}). Fix the simulator, or let the trainer skip and count " +
                        "such rows (--skip-bad-rows; ExternalSimulatorOptions.RejectNonFinite = false).");
                }
            }
        }

        lock (gate)
        {
            if (variables is null)
            {
                variables = [.. batch.Names.Select(n => (n, batch.SampleShape(n).ToArray()))];
                return batch;
            }
            foreach (var (name, expected) in variables)
            {
                if (!batch.Contains(name))
                    throw Error($"no variable '{name}'; it holds {List(batch.Names)}. The first response fixed the variables: {List(variables.Select(v => v.Name))}.");
                var received = batch.SampleShape(name);
                if (!received.SequenceEqual(expected))
                    throw Error($"variable '{name}' of shape {Describe(batchSize, received)}; the first response fixed its per-sample shape, so expected {Describe(batchSize, expected)}.");
            }
        }
        return batch;
    }

    private static string List(IEnumerable<string> names)
    {
        var quoted = names.Select(n => $"'{n}'").ToList();
        return quoted.Count == 0 ? "no variables" : string.Join(", ", quoted);
    }

    private static string Describe(int rows, IEnumerable<int> sampleShape) => NpyArray.Describe([rows, .. sampleShape.Select(d => (long)d)]);
}
