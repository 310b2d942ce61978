using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>Two-moons simulations written as a user's data file, for the host's --data tests.</summary>
internal static class TwoMoonsFiles
{
    /// <summary>Writes <paramref name="rows"/> simulations of the built-in simulator as DIR/NAME, an NPZ with theta [rows, 2] and x [rows, 2].</summary>
    /// <param name="directory">Where to write.</param>
    /// <param name="name">The file name.</param>
    /// <param name="rows">Simulations.</param>
    /// <param name="seed">The simulator's seed.</param>
    /// <param name="failedRow">A row whose x is set to NaN, as a failed simulation, or -1 for none.</param>
    public static string Npz(string directory, string name, int rows, ulong seed, int failedRow = -1)
    {
        var batch = new TwoMoonsTask().CreateSimulator(seed).Sample(rows, seed);
        if (failedRow >= 0) batch.Get("x")[2 * failedRow] = double.NaN;
        string path = Path.Combine(directory, name);
        using var file = File.Create(path);
        NpzArchive.Write(file, [new("theta", new NpyArray(batch.Get("theta"), rows, 2)), new("x", new NpyArray(batch.Get("x"), rows, 2))]);
        return path;
    }
}
