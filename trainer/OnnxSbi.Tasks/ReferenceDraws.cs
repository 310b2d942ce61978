using OnnxSbi.Runtime;

namespace OnnxSbi.Tasks;

/// <summary>
/// What the exact reference samplers share: checking a request (observation shape and finiteness, draw count)
/// and collecting draws as unique rows, as sbibm requires of its 10,000 reference samples per observation.
/// </summary>
internal static class ReferenceDraws
{
    /// <summary>
    /// Throws <see cref="InvalidRequestException"/> naming the task and variable unless <paramref name="observation"/>
    /// has <see cref="SbiTask.ObservationDim"/> finite values and <paramref name="draws"/> is not negative.
    /// </summary>
    public static void CheckRequest(SbiTask task, ReadOnlySpan<double> observation, int draws)
    {
        if (observation.Length != task.ObservationDim)
            throw new InvalidRequestException($"Observation '{task.ObservationName}' of task '{task.Name}' has shape [{task.ObservationDim}]; received {observation.Length} values.");
        for (int i = 0; i < observation.Length; i++)
        {
            if (!double.IsFinite(observation[i]))
                throw new InvalidRequestException($"Observation '{task.ObservationName}' of task '{task.Name}' must be finite; received {observation[i]} at index {i} of [{task.ObservationDim}].");
        }
        if (draws < 0)
            throw new InvalidRequestException($"Argument 'draws' (reference posterior draws of task '{task.Name}') must be >= 0; received {draws}.");
    }

    /// <summary>
    /// Calls <paramref name="drawRow"/> until <paramref name="draws"/> distinct rows of <paramref name="dim"/> values
    /// are held, and returns them row-major in the order drawn; a repeat of an earlier row is dropped, as sbibm
    /// drops duplicates. Exact continuous samplers repeat a row with probability about 2⁻⁵³ per pair, so the loop
    /// gives up (with an error naming the task) only on a posterior concentrated on a few representable values.
    /// </summary>
    public static double[] Unique(SbiTask task, int draws, int dim, Action<Span<double>> drawRow)
    {
        var rows = new double[(long)draws * dim];
        var held = new HashSet<int>(draws, new RowComparer(rows, dim));
        long attempts = 0, maxAttempts = 2L * draws + 1000;
        int filled = 0;
        while (filled < draws)
        {
            if (++attempts > maxAttempts)
                throw new InvalidRequestException($"The reference posterior of task '{task.Name}' gave {filled} distinct draws in {maxAttempts} attempts; {draws} requested. The observation is so far outside the prior's support that the posterior collapses onto a few representable values.");
            drawRow(rows.AsSpan(filled * dim, dim));
            if (held.Add(filled)) filled++;
        }
        return rows;
    }

    /// <summary>Compares rows of one row-major array by index, bit for bit (with −0 equal to +0).</summary>
    private sealed class RowComparer(double[] rows, int dim) : IEqualityComparer<int>
    {
        public bool Equals(int a, int b) => rows.AsSpan(a * dim, dim).SequenceEqual(rows.AsSpan(b * dim, dim));

        public int GetHashCode(int row)
        {
            var hash = new HashCode();
            // Adding 0.0 maps −0 to +0, which compare equal and must hash equally.
            foreach (double v in rows.AsSpan(row * dim, dim)) hash.Add(v + 0.0);
            return hash.ToHashCode();
        }
    }
}
