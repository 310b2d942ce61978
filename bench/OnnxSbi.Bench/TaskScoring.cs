using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench;

/// <summary>C2ST of a model's draws against a task's reference posterior, with fixed seeds so that every verb scores alike.</summary>
internal static class TaskScoring
{
    /// <summary>
    /// C2ST at each observation of <paramref name="observations"/>: the model's draws there against as many reference
    /// draws. The reference draws use seed 7 at the first observation and 99 + i at observation i, the classifier seed 11 + i.
    /// </summary>
    /// <param name="task">The task whose reference posterior the draws are compared with.</param>
    /// <param name="observations">Row-major observations, as from <see cref="SbiTask.ScoringObservations"/>.</param>
    /// <param name="theta">Model draws of one sampling call over those observations: [observations × draws × ParameterDim], row-major.</param>
    /// <param name="draws">Draws per observation, model and reference alike.</param>
    /// <exception cref="InvalidRequestException">The arrays' lengths do not match the task's dimensions and <paramref name="draws"/>.</exception>
    public static double[] ScoreAtObservations(SbiTask task, ReadOnlySpan<double> observations, ReadOnlySpan<double> theta, int draws)
    {
        int xDim = task.ObservationDim, thetaDim = task.ParameterDim;
        int rows = observations.Length / xDim;
        if (observations.Length % xDim != 0 || theta.Length != (long)rows * draws * thetaDim)
            throw new InvalidRequestException($"Expected {rows} observations of {xDim} values and theta of shape [{rows}, {draws}, {thetaDim}] ({(long)rows * draws * thetaDim} values); received {observations.Length} observation values and {theta.Length} theta values.");
        var scores = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double[] reference = task.SampleReferencePosterior(observations.Slice(i * xDim, xDim), draws, seed: i == 0 ? 7UL : 99 + (ulong)i);
            scores[i] = C2st.Score(reference, theta.Slice(i * draws * thetaDim, draws * thetaDim), thetaDim, new C2stOptions(Seed: 11 + (ulong)i));
        }
        return scores;
    }
}
