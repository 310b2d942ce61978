using OnnxSbi.Trainer.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class ConsistencyModelLossTests
{
    private const int D = 3, C = 2, Rows = 64;
    private const long Step = 700; // K_total = 1000 → K = 203: step 700 is in the stage with N = 81.

    [Fact]
    public void Loss_FixedGeneratorDraws_IsWeightedPseudoHuberBetweenStudentAndTeacher()
    {
        using var net = Network();
        using var theta = randn(Rows, D) * 0.5;
        using var c = randn(Rows, C);
        using var g = new Generator(21);
        using var loss = net.ComputeLoss(theta, c, Step, g);
        using var expected = ManualLoss(net, theta, c, detachTeacher: true);
        // The same float32 operations on the same draws: equal to rounding of the batch mean.
        Assert.Equal(expected.item<float>(), loss.item<float>(), 1e-5 * Math.Abs(expected.item<float>()));
        Assert.True(loss.item<float>() > 0);
    }

    [Fact]
    public void Loss_Gradient_FlowsThroughStudentOnly()
    {
        using var net = Network();
        using var theta = randn(Rows, D) * 0.5;
        using var c = randn(Rows, C);
        var got = Gradient(net, () => { using var g = new Generator(21); return net.ComputeLoss(theta, c, Step, g); });
        var studentOnly = Gradient(net, () => ManualLoss(net, theta, c, detachTeacher: true));
        var both = Gradient(net, () => ManualLoss(net, theta, c, detachTeacher: false));
        // Same graph up to summation order: relative 1e-4 of the gradient's norm. A gradient through the
        // teacher as well changes it by far more (checked below), so the test separates the two.
        double norm = got.Max(Math.Abs);
        Assert.True(MaxDiff(got, studentOnly) <= 1e-4 * norm, $"diff {MaxDiff(got, studentOnly)} vs norm {norm}");
        Assert.True(MaxDiff(got, both) > 1e-2 * norm, $"teacher gradient indistinguishable: {MaxDiff(got, both)} vs norm {norm}");
    }

    [Fact]
    public void Loss_StepBeyondTotalSteps_UsesFinalDiscretization()
    {
        using var net = Network();
        using var theta = randn(Rows, D);
        using var c = randn(Rows, C);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using var last = net.ComputeLoss(theta, c, net.Options.TotalSteps - 1, g1);
        using var beyond = net.ComputeLoss(theta, c, 10 * net.Options.TotalSteps, g2);
        Assert.Equal(last.item<float>(), beyond.item<float>());
    }

    private static ConsistencyModel Network()
    {
        manual_seed(4);
        // No dropout so that a manual re-computation sees the same function.
        var net = new ConsistencyModel(D, C, new ConsistencyModelOptions(new MlpOptions([32, 32], Dropout: 0), TotalSteps: 1000));
        using (no_grad()) foreach (var (name, p) in net.named_parameters()) if (name.StartsWith("output")) p.copy_(randn_like(p) * 0.1);
        return net;
    }

    /// <summary>
    /// The training step of docs/algorithms.md#consistency-models, written out from the same generator stream
    /// (seed 21).
    /// </summary>
    private static Tensor ManualLoss(ConsistencyModel net, Tensor theta, Tensor c, bool detachTeacher)
    {
        var o = net.Options;
        using var g = new Generator(21);
        int n = ConsistencySchedule.Discretization(Step, o.TotalSteps, o.S0, o.S1);
        Assert.Equal(81, n);
        double[] grid = ConsistencySchedule.TimeGrid(n, o.Eps, o.MaxTime, o.Rho);
        using var weights = tensor(ConsistencySchedule.IndexWeights(grid, o.PMean, o.PStd));
        using var index = multinomial(weights, Rows, replacement: true, generator: g);
        using var z = randn([Rows, D], generator: g);
        long[] idx = index.data<long>().ToArray();
        using var t1 = tensor(idx.Select(i => (float)grid[i]).ToArray()).reshape(Rows, 1);
        using var t2 = tensor(idx.Select(i => (float)grid[i + 1]).ToArray()).reshape(Rows, 1);
        using var lambda = tensor(idx.Select(i => (float)(1 / (grid[i + 1] - grid[i]))).ToArray()).reshape(Rows, 1);
        using var teacherFull = net.Consistency(theta + t1 * z, t1, c);
        using var teacher = detachTeacher ? teacherFull.detach() : teacherFull.alias();
        using var student = net.Consistency(theta + t2 * z, t2, c);
        double h = 0.00054 * Math.Sqrt(D);
        using var diff = student - teacher;
        return (lambda * ((diff * diff + h * h).sqrt() - h)).mean();
    }

    private static double[] Gradient(ConsistencyModel net, Func<Tensor> loss)
    {
        net.zero_grad();
        using (var l = loss()) l.backward();
        return net.parameters().SelectMany(p => p.grad!.data<float>().ToArray().Select(v => (double)v)).ToArray();
    }

    private static double MaxDiff(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
