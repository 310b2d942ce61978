using System.Diagnostics;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;
using Xunit.Abstractions;

namespace OnnxSbi.Runtime.Tests.Noise;

public class NormalGeneratorTests(ITestOutputHelper output)
{
    [Fact]
    public void Xoshiro256_ReferenceState_ReproducesPublishedOutputs()
    {
        // Outputs of the reference C implementation (prng.di.unimi.it) from state {1, 2, 3, 4}.
        var g = Xoshiro256.FromState(1, 2, 3, 4);
        ulong[] expected = [11520UL, 0UL, 1509978240UL, 1215971899390074240UL];
        foreach (ulong e in expected) Assert.Equal(e, g.NextUInt64());
    }

    [Fact]
    public void FillUniform_VectorLanes_MatchScalarGenerators()
    {
        // Each block of 16 uniforms holds bits 40–63 of lanes 0–7, then bits 8–31 of lanes 0–7.
        var generator = NormalGenerator.ForStream(99, 5);
        var u = new float[4096];
        generator.FillUniform(u);
        var lanes = Enumerable.Range(0, 8).Select(l => Xoshiro256.Create(99, 5, l)).ToArray();
        for (int block = 0; block < u.Length / 16; block++)
        {
            for (int l = 0; l < 8; l++)
            {
                ulong x = lanes[l].NextUInt64();
                Assert.Equal((x >> 40) / 16777216f, u[16 * block + l]);
                Assert.Equal(((x >> 8) & 0xFFFFFF) / 16777216f, u[16 * block + 8 + l]);
            }
        }
    }

    [Fact]
    public void SinCosQuadrant_GridOfAngles_MatchesMathWithinFloatPrecision()
    {
        var theta = new float[8];
        var q = new int[8];
        double worst = 0;
        for (int k = 0; k <= 1000; k++)
        {
            for (int l = 0; l < 8; l++)
            {
                theta[l] = (float)(-Math.PI / 4 + Math.PI / 2 * (k + l / 8.0) / 1000.0);
                q[l] = (k + l) & 3;
            }
            NormalGenerator.SinCosQuadrant(System.Runtime.Intrinsics.Vector256.Create<float>(theta), System.Runtime.Intrinsics.Vector256.Create<int>(q), out var sin, out var cos);
            for (int l = 0; l < 8; l++)
            {
                double angle = theta[l] + q[l] * Math.PI / 2;
                worst = Math.Max(worst, Math.Max(Math.Abs(sin[l] - Math.Sin(angle)), Math.Abs(cos[l] - Math.Cos(angle))));
            }
        }
        // Tolerance 2e-7: the polynomials' 3e-8 truncation plus a few float32 roundings of values ≤ 1.
        Assert.True(worst < 2e-7, $"worst error {worst:E2}");
    }

    [Fact]
    public void Fill_FourMillionDraws_MomentsMatchStandardNormal()
    {
        const int n = 1 << 22;
        var z = new float[n];
        new NormalGenerator(12345).Fill(z);
        var (mean, variance, skewness, kurtosis) = Statistics.Moments(z);
        output.WriteLine($"mean {mean:E2} var {variance:F5} skew {skewness:E2} kurt {kurtosis:E2}");
        // Tolerances: 5 standard errors of each sample moment under N(0,1): √(1/n), √(2/n), √(6/n), √(24/n).
        Assert.InRange(mean, -5 * Math.Sqrt(1.0 / n), 5 * Math.Sqrt(1.0 / n));
        Assert.InRange(variance - 1, -5 * Math.Sqrt(2.0 / n), 5 * Math.Sqrt(2.0 / n));
        Assert.InRange(skewness, -5 * Math.Sqrt(6.0 / n), 5 * Math.Sqrt(6.0 / n));
        Assert.InRange(kurtosis, -5 * Math.Sqrt(24.0 / n), 5 * Math.Sqrt(24.0 / n));
    }

    [Fact]
    public void Fill_TwoHundredThousandDraws_PassesKolmogorovSmirnovAgainstStandardNormal()
    {
        const int n = 200_000;
        var z = new float[n];
        new NormalGenerator(7).Fill(z);
        double d = Statistics.KolmogorovSmirnov(z.Select(v => (double)v), Statistics.NormalCdf);
        output.WriteLine($"KS D = {d:E3}, critical {Statistics.KsCritical001(n):E3}");
        // Critical value at α = 0.001; the CDF approximation's 1e-7 error is far below it.
        Assert.True(d < Statistics.KsCritical001(n), $"D = {d}");
    }

    [Fact]
    public void Fill_TailFrequencies_MatchNormalTails()
    {
        const int n = 1 << 22;
        var z = new float[n];
        new NormalGenerator(2024).Fill(z);
        foreach (double c in new[] { 2.0, 3.0, 4.0 })
        {
            double p = 2 * Statistics.NormalCdf(-c);
            double observed = z.Count(v => Math.Abs(v) > c) / (double)n;
            // Tolerance: 5 binomial standard errors √(p(1−p)/n).
            Assert.True(Math.Abs(observed - p) < 5 * Math.Sqrt(p * (1 - p) / n), $"P(|z|>{c}) = {observed:E3}, expected {p:E3}");
        }
        Assert.All(z, v => Assert.True(float.IsFinite(v) && Math.Abs(v) <= 6.67f));
    }

    [Fact]
    public void FillUniform_MillionDraws_UniformOnUnitInterval()
    {
        const int n = 1 << 20;
        var u = new float[n];
        new NormalGenerator(3).FillUniform(u);
        Assert.All(u, v => Assert.InRange(v, 0f, 1f - 1f / (1 << 24)));
        var (mean, variance, _, _) = Statistics.Moments(u);
        // Tolerances: 5 standard errors, √(1/12n) for the mean and √(1/180n) for the variance.
        Assert.InRange(mean - 0.5, -5 * Math.Sqrt(1.0 / (12.0 * n)), 5 * Math.Sqrt(1.0 / (12.0 * n)));
        Assert.InRange(variance - 1.0 / 12, -5 * Math.Sqrt(1.0 / (180.0 * n)), 5 * Math.Sqrt(1.0 / (180.0 * n)));
        double d = Statistics.KolmogorovSmirnov(u.Take(200_000).Select(v => (double)v), x => x);
        Assert.True(d < Statistics.KsCritical001(200_000), $"D = {d}");
    }

    [Fact]
    public void Fill_SameSeed_SameSequenceRegardlessOfChunking()
    {
        var whole = new float[5000];
        new NormalGenerator(42).Fill(whole);
        var pieces = new float[5000];
        var g = new NormalGenerator(42);
        int[] sizes = [1, 7, 1000, 1024, 2048, 3, 917];
        int at = 0;
        foreach (int size in sizes)
        {
            g.Fill(pieces.AsSpan(at, size));
            at += size;
        }
        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void Fill_DifferentSeedsOrStreams_DifferentSequences()
    {
        float[] Draw(NormalGenerator g) { var z = new float[64]; g.Fill(z); return z; }
        var reference = Draw(new NormalGenerator(1));
        Assert.Equal(reference, Draw(NormalGenerator.ForStream(1, 0)));
        Assert.NotEqual(reference, Draw(new NormalGenerator(2)));
        Assert.NotEqual(reference, Draw(NormalGenerator.ForStream(1, 1)));
        Assert.NotEqual(Draw(NormalGenerator.ForStream(1, 1)), Draw(NormalGenerator.ForStream(2, 0)));
    }

    [Fact]
    public void Fill_NeighbouringStreams_Uncorrelated()
    {
        const int n = 1 << 20;
        var x = new float[n];
        var y = new float[n];
        NormalGenerator.ForStream(11, 0).Fill(x);
        NormalGenerator.ForStream(11, 1).Fill(y);
        double r = 0;
        for (int i = 0; i < n; i++) r += (double)x[i] * y[i];
        r /= n;
        // The sample correlation of independent N(0,1) sequences has standard error 1/√n; 5 SE.
        Assert.InRange(r, -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
    }

    [Fact]
    public void Fill_AfterWarmUp_AllocatesNothing()
    {
        var g = new NormalGenerator(5);
        var z = new float[3000];
        g.Fill(z);
        g.FillUniform(z);
        long before = GC.GetAllocatedBytesForCurrentThread();
        g.Fill(z);
        g.Fill(z.AsSpan(0, 17));
        g.FillUniform(z);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

}
