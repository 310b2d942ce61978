using System.Globalization;
using System.Security.Cryptography;
using OnnxSbi.Runtime.IO;
using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>
/// Reference posterior draws kept on disk by (task, observation, seed, draws), so that a benchmark rerun or a second
/// network scored at the same observation does not pay for an MCMC reference again. Each entry is one NumPy .npz
/// file, readable with <c>numpy.load</c>: <c>theta</c> [draws, D], the observation <c>x</c> [1, K], and the run's
/// <c>seconds</c>, <c>max_rhat</c> and <c>min_bulk_ess</c> (NaN for exact samplers, which have no chains).
/// </summary>
/// <param name="directory">The cache's root; one subdirectory per task.</param>
internal sealed class ReferenceCache(string directory)
{
    /// <summary>The cache's root directory.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>The draws and what is known of how they were made.</summary>
    /// <param name="Draws">Row-major [draws × D].</param>
    /// <param name="Seconds">Wall time of the run that made them.</param>
    /// <param name="MaxRHat">The chains' largest R̂, or NaN without chains.</param>
    /// <param name="MinBulkEss">The chains' smallest bulk ESS, or NaN without chains.</param>
    /// <param name="FromCache">Whether they were read from disk rather than sampled now.</param>
    public sealed record Entry(double[] Draws, double Seconds, double MaxRHat, double MinBulkEss, bool FromCache);

    /// <summary>The file that holds (task, observation, seed, draws): the observation is named by its SHA-256 (bit-exact values).</summary>
    public string PathFor(SbiTask task, ReadOnlySpan<double> observation, ulong seed, int draws)
    {
        byte[] bytes = new byte[observation.Length * sizeof(double)];
        for (int i = 0; i < observation.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * sizeof(double)), observation[i]);
        string key = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        return Path.Combine(Directory, task.Name, string.Create(CultureInfo.InvariantCulture, $"x{key}_seed{seed}_n{draws}.npz"));
    }

    /// <summary>
    /// The reference draws at <paramref name="observation"/>: read from the cache when an entry exists for this exact
    /// observation, seed and count, otherwise sampled with the task's reference and written atomically.
    /// </summary>
    /// <exception cref="InvalidDataException">A cache file exists but does not hold [draws, D] draws of this observation.</exception>
    public Entry GetOrSample(SbiTask task, ReadOnlySpan<double> observation, ulong seed, int draws)
    {
        string path = PathFor(task, observation, seed, draws);
        if (File.Exists(path)) return Read(path, task, observation, draws);
        var run = task.SampleReferenceRun(observation, draws, seed);
        var entry = new Entry(run.Draws, run.WallTime.TotalSeconds, run.Mcmc?.MaxRHat ?? double.NaN, run.Mcmc?.MinBulkEss ?? double.NaN, FromCache: false);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        double[] x = observation.ToArray();
        AtomicFile.Write(path, stream => NpzArchive.Write(stream,
        [
            new("theta", new NpyArray(entry.Draws, draws, task.ParameterDim)),
            new("x", new NpyArray(x, 1, x.Length)),
            new("seconds", new NpyArray([entry.Seconds], 1)),
            new("max_rhat", new NpyArray([entry.MaxRHat], 1)),
            new("min_bulk_ess", new NpyArray([entry.MinBulkEss], 1)),
        ]));
        return entry;
    }

    private static Entry Read(string path, SbiTask task, ReadOnlySpan<double> observation, int draws)
    {
        var arrays = NpzArchive.Read(path);
        NpyArray Array(string name) => arrays.TryGetValue(name, out var a) ? a
            : throw new InvalidDataException($"Reference cache file '{path}' has no array '{name}'; delete it to sample the reference again.");
        var theta = Array("theta");
        var x = Array("x");
        if (theta.Shape.Count != 2 || theta.Shape[0] != draws || theta.Shape[1] != task.ParameterDim)
            throw new InvalidDataException($"Reference cache file '{path}': 'theta' has shape {theta.ShapeText}; expected ({draws}, {task.ParameterDim}). Delete it to sample the reference again.");
        if (!x.Data.AsSpan().SequenceEqual(observation))
            throw new InvalidDataException($"Reference cache file '{path}' holds the draws of another observation; delete it to sample the reference again.");
        return new Entry(theta.Data, Array("seconds").Data[0], Array("max_rhat").Data[0], Array("min_bulk_ess").Data[0], FromCache: true);
    }
}
