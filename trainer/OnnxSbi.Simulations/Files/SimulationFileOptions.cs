using System.Globalization;

namespace OnnxSbi.Simulations.Files;

/// <summary>How <see cref="SimulationFiles"/> reads a data set and how <see cref="SimulationShuffle"/> streams it.</summary>
public sealed record SimulationFileOptions
{
    /// <summary>The default options.</summary>
    public static SimulationFileOptions Default { get; } = new();

    /// <summary>
    /// Per-row shapes by variable, for variables stored as flat columns ("x_0" … "x_7" read as shape [4, 2]) or as a
    /// list column; for a NumPy array the option may only reshape its per-row values. Without an option, columns
    /// "x_0" … "x_{k-1}" are shape [k], a single column "x" is a scalar per row, and a list of k values is shape [k].
    /// </summary>
    public IReadOnlyDictionary<string, int[]> Shapes { get; init; } = new Dictionary<string, int[]>();

    /// <summary>Rows per shuffle chunk for .npy, stored .npz and .csv shards (a Parquet chunk is a row group). Default 65,536.</summary>
    public int ChunkRows { get; init; } = 65_536;

    /// <summary>
    /// Rows held by one shuffle window (consecutive chunks, rows permuted within it). Memory holds two windows (the
    /// current one and the prefetched next one) plus one being read; a chunk larger than this (a big Parquet row group,
    /// a deflated .npz shard) is a window of its own. Default 262,144.
    /// </summary>
    public int WindowRows { get; init; } = 262_144;

    /// <summary>The most validation rows loaded into memory (a held-out fraction or separate validation files). Default 1,000,000.</summary>
    public int MaxValidationRows { get; init; } = 1_000_000;

    /// <summary>Parses a shape option "x=4,2" (the variable, '=', then comma-separated positive dimensions).</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static KeyValuePair<string, int[]> ParseShape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            string name = text[..eq].Trim();
            var parts = text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries);
            var dims = new int[parts.Length];
            bool ok = name.Length > 0 && parts.Length > 0;
            for (int i = 0; ok && i < parts.Length; i++)
                ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) && dims[i] > 0;
            if (ok) return new(name, dims);
        }
        throw new FormatException($"Shape option '{text}' is not of the form NAME=D1,D2,… (e.g. x=4,2).");
    }

    internal void Validate()
    {
        if (ChunkRows <= 0) throw new ArgumentOutOfRangeException(nameof(ChunkRows), ChunkRows, "ChunkRows must be positive.");
        if (WindowRows <= 0) throw new ArgumentOutOfRangeException(nameof(WindowRows), WindowRows, "WindowRows must be positive.");
        if (MaxValidationRows < 0) throw new ArgumentOutOfRangeException(nameof(MaxValidationRows), MaxValidationRows, "MaxValidationRows must not be negative.");
        foreach (var (name, shape) in Shapes)
            if (shape.Any(d => d <= 0)) throw new ArgumentException($"Shape option for '{name}' has a non-positive dimension: [{string.Join(", ", shape)}].");
    }
}
