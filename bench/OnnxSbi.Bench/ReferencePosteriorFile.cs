using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Bench;

/// <summary>
/// A reference posterior from a NumPy <c>.npz</c> file, for scoring any bundle without a built-in task: one array per
/// condition variable of the bundle, holding the observation ([1, …shape] or its per-sample shape), and one array per
/// inference variable, holding the reference draws ([draws, …shape]). Arrays are found by the bundle's variable names;
/// others in the file are ignored. bench/tasks/gaussian_linear.py writes such files.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Observation">The observation as a one-row batch of the bundle's condition variables.</param>
/// <param name="Draws">The reference draws, row-major [Rows, Dim]: each row the inference variables flattened and joined in the bundle's order.</param>
/// <param name="Rows">The number of reference draws.</param>
/// <param name="Dim">The values per draw.</param>
internal sealed record ReferencePosteriorFile(string Path, ArrayBatch Observation, double[] Draws, int Rows, int Dim)
{
    /// <summary>Reads <paramref name="path"/> for the variables of <paramref name="model"/>.</summary>
    /// <exception cref="DataFileException">The file is not an .npz, lacks a variable, or an array has the wrong shape; the message names the file, the variable and both shapes.</exception>
    public static ReferencePosteriorFile Read(string path, ModelDescription model)
    {
        var arrays = NpzArchive.Read(path);
        string held = arrays.Count == 0 ? "no arrays" : $"arrays {string.Join(", ", arrays.Select(a => $"'{a.Key}' {a.Value.ShapeText}"))}";

        var observation = new ArrayBatch(1);
        foreach (var variable in model.ConditionVariables)
        {
            int[] shape = Ints(variable.Shape);
            if (!arrays.TryGetValue(variable.Name, out var array))
                throw new DataFileException(path, $"no array '{variable.Name}', the bundle's condition variable (the observation, shape {NpyArray.Describe([1, .. variable.Shape])}); the file holds {held}.");
            bool batched = array.Shape.Count == shape.Length + 1 && array.Shape[0] == 1 && array.Shape.Skip(1).SequenceEqual(variable.Shape);
            if (!batched && !array.Shape.SequenceEqual(variable.Shape))
                throw new DataFileException(path, $"array '{variable.Name}' (the observation) has shape {array.ShapeText}; the bundle expects {NpyArray.Describe([1, .. variable.Shape])} (one observation).");
            observation.Set(variable.Name, array.Data, shape);
        }

        int rows = -1, dim = 0;
        var parts = new List<(double[] Data, int Width)>();
        foreach (var variable in model.InferenceVariables)
        {
            if (!arrays.TryGetValue(variable.Name, out var array))
                throw new DataFileException(path, $"no array '{variable.Name}', the bundle's inference variable (the reference draws, shape {NpyArray.Describe([-1, .. variable.Shape]).Replace("-1", "draws")}); the file holds {held}.");
            if (array.Shape.Count != variable.Shape.Count + 1 || !array.Shape.Skip(1).SequenceEqual(variable.Shape) || array.Shape[0] < 1)
                throw new DataFileException(path, $"array '{variable.Name}' (reference draws) has shape {array.ShapeText}; the bundle expects {NpyArray.Describe([-1, .. variable.Shape]).Replace("-1", "draws")}.");
            int n = checked((int)array.Shape[0]);
            if (rows >= 0 && n != rows)
                throw new DataFileException(path, $"array '{variable.Name}' holds {n} draws but '{model.InferenceVariables[0].Name}' holds {rows}; every inference variable needs the same number.");
            rows = n;
            int width = array.Data.Length / n;
            parts.Add((array.Data, width));
            dim += width;
        }

        var draws = new double[(long)rows * dim];
        for (int r = 0; r < rows; r++)
        {
            int offset = r * dim;
            foreach (var (data, width) in parts)
            {
                Array.Copy(data, (long)r * width, draws, offset, width);
                offset += width;
            }
        }
        return new ReferencePosteriorFile(path, observation, draws, rows, dim);
    }

    /// <summary>Model draws of one observation in the same layout as <see cref="Draws"/>: [draws, Dim], the variables joined in the bundle's order.</summary>
    public static double[] Join(PosteriorDraws result, ModelDescription model, int draws, int dim)
    {
        var joined = new double[(long)draws * dim];
        int offset = 0;
        foreach (var variable in model.InferenceVariables)
        {
            double[] values = result[variable.Name];
            int width = values.Length / draws;
            for (int r = 0; r < draws; r++) Array.Copy(values, (long)r * width, joined, (long)r * dim + offset, width);
            offset += width;
        }
        return joined;
    }

    private static int[] Ints(IReadOnlyList<long> shape) => [.. shape.Select(d => checked((int)d))];
}
