using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>Minibatch optimal-transport pairing of noise with data (Tong et al. 2024; Pooladian et al. 2023).</summary>
internal static class OptimalTransport
{
    /// <summary>
    /// Solves the entropic OT problem between the rows of <paramref name="noise"/> and <paramref name="data"/>
    /// with squared Euclidean cost by log-domain Sinkhorn iterations (Cuturi 2013), then draws, for each
    /// data row, the noise row to pair with it from the plan's conditional. Returns noise-row indices.
    /// </summary>
    public static Tensor SamplePairing(Tensor noise, Tensor data, double regularization, Generator generator, int iterations = 100)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = data.shape[0];
        var cost = cdist(data, noise).pow(2);
        // Normalize the cost so the regularization is scale-free, as common OT implementations do.
        var scaled = -cost / (regularization * cost.mean().clamp_min(1e-12));
        var logU = zeros(n, 1);
        var logV = zeros(1, n);
        double logMarginal = -Math.Log(n);
        for (int i = 0; i < iterations; i++)
        {
            logU = logMarginal - (scaled + logV).logsumexp(1, keepdim: true);
            logV = logMarginal - (scaled + logU).logsumexp(0, keepdim: true);
        }
        var plan = (scaled + logU + logV).softmax(1);
        return multinomial(plan, 1, generator: generator).squeeze(1).MoveToOuterDisposeScope();
    }
}
