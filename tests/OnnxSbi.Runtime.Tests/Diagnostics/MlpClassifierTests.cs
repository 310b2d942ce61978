using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public class MlpClassifierTests
{
    [Theory]
    [InlineData(3, 5, 8)]
    [InlineData(20, 20, 200)]
    [InlineData(1, 20, 40)]
    public void GemmKernels_RandomOperands_MatchNaiveProducts(int rows, int inner, int width)
    {
        var g = new NormalGenerator(1);
        float[] Rand(int n) { var x = new float[n]; g.Fill(x); return x; }
        float[] a = Rand(rows * inner), b = Rand(inner * width), bias = Rand(rows), mask = Rand(rows * width);
        var c = new float[rows * width];
        MlpClassifier.GemmNN(a, rows, inner, bias, b, width, c, relu: true, mask: default);
        var masked = new float[rows * width];
        MlpClassifier.GemmNN(a, rows, inner, default, b, width, masked, relu: false, mask: mask);
        for (int i = 0; i < rows; i++)
        {
            for (int n = 0; n < width; n++)
            {
                double s = 0;
                for (int k = 0; k < inner; k++) s += (double)a[i * inner + k] * b[k * width + n];
                // Tolerance: float32 sums of ≤ 20 products of N(0,1) values, relative error ~1e-6.
                Assert.Equal(Math.Max(0, s + bias[i]), c[i * width + n], 1e-4);
                Assert.Equal(mask[i * width + n] > 0 ? s : 0, masked[i * width + n], 1e-4);
            }
        }
        var e = Rand(inner * width);
        var d = Rand(rows * width);
        var gOut = new float[rows * inner];
        MlpClassifier.GemmNT(d, rows, e, inner, width, gOut);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < inner; j++)
            {
                double s = 0;
                for (int n = 0; n < width; n++) s += (double)d[i * width + n] * e[j * width + n];
                // Tolerance: a float32 dot product of length ≤ 200, |s| ~ √200; relative error ~1e-6.
                Assert.Equal(s, gOut[i * inner + j], 1e-3);
            }
        }
    }

    [Fact]
    public void LossAndGradients_MatchCentralFiniteDifferences()
    {
        var rng = Xoshiro256.Create(4, 0);
        var net = new MlpClassifier(3, 6, 13, ref rng);
        var data = new float[13 * 3];
        new NormalGenerator(2).Fill(data);
        var labels = Enumerable.Range(0, 13).Select(i => (float)(i % 2)).ToArray();
        int[] batch = Enumerable.Range(0, 13).ToArray(); // 13 samples: exercises the padding to 16
        const float alpha = 0.3f; // large, so the penalty's gradient is visible
        net.LossAndGradients(data, labels, batch, alpha);
        float[] analytic = net.Gradients.ToArray();
        Span<float> p = net.Parameters;
        for (int i = 0; i < p.Length; i++)
        {
            float saved = p[i];
            const float h = 2e-3f;
            p[i] = saved + h;
            double up = net.LossAndGradients(data, labels, batch, alpha);
            p[i] = saved - h;
            double down = net.LossAndGradients(data, labels, batch, alpha);
            p[i] = saved;
            double numeric = (up - down) / (2 * h);
            // Tolerance: central differences err by O(h²·L''') ~ 1e-5 away from ReLU kinks, plus float32
            // loss rounding ~1e-7/h = 5e-5; 1e-3 absolute also absorbs a ReLU kink crossed within ±h.
            Assert.True(Math.Abs(numeric - analytic[i]) < 1e-3, $"parameter {i}: numeric {numeric:E4}, analytic {analytic[i]:E4}");
        }
    }

    [Fact]
    public void TrainBatch_AfterWarmUp_AllocatesNothing()
    {
        var rng = Xoshiro256.Create(1, 0);
        var net = new MlpClassifier(2, 20, 200, ref rng);
        var data = new float[400 * 2];
        new NormalGenerator(3).Fill(data);
        var labels = Enumerable.Range(0, 400).Select(i => (float)(i % 2)).ToArray();
        int[] batch = Enumerable.Range(0, 200).ToArray();
        net.TrainBatch(data, labels, batch, 1e-3f, 1e-4f);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) net.TrainBatch(data, labels, batch, 1e-3f, 1e-4f);
        net.CountCorrect(data, labels, batch);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
