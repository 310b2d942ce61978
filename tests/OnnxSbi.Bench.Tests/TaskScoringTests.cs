using OnnxSbi.Tasks;

namespace OnnxSbi.Bench.Tests;

public sealed class TaskScoringTests
{
    [Fact]
    public void ScoreAtObservations_ExactDrawsAtOriginAndTwoTestObservations_ScoreNearHalf()
    {
        const int draws = 2000;
        var task = new TwoMoonsTask();
        double[] xs = task.ScoringObservations(2);
        Assert.Equal(6, xs.Length);
        Assert.Equal([0.0, 0.0], xs[..2]);
        double[] theta = [.. Enumerable.Range(0, 3).SelectMany(i => TwoMoonsPosterior.SampleExact(xs[2 * i], xs[2 * i + 1], draws, seed: 500 + (ulong)i))];
        double[] scores = TaskScoring.ScoreAtObservations(task, xs, theta, draws);
        // Exact draws against exact draws (other seeds): C2ST of identical distributions with 2,000 per
        // side has sd ≈ 0.01 around 0.5, so 0.56 is six sd; draws from the wrong observation score ≈ 1.
        Assert.All(scores, c => Assert.InRange(c, 0.44, 0.56));
    }

    [Fact]
    public void ScoreAtObservations_ThetaOfWrongLength_NamesExpectedShape()
    {
        var task = new TwoMoonsTask();
        double[] xs = task.ScoringObservations(1);
        var e = Assert.Throws<InvalidRequestException>(() => TaskScoring.ScoreAtObservations(task, xs, new double[10], 100));
        Assert.Contains("[2, 100, 2]", e.Message);
        Assert.Throws<InvalidRequestException>(() => task.ScoringObservations(11));
    }
}
