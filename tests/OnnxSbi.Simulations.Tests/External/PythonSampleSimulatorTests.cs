using System.Diagnostics;
using OnnxSbi.Simulations.External;
using OnnxSbi.TestSupport;

namespace OnnxSbi.Simulations.Tests.External;

/// <summary>
/// samples/simulators/two_moons.py speaks the protocol: run through ExternalSimulator, it answers with two-moons
/// batches, the same for the same seed. Needs /usr/bin/python3 with numpy; skipped where they are missing.
/// </summary>
public sealed class PythonSampleSimulatorTests
{
    private const string Python = "/usr/bin/python3";

    [PythonWithNumpyFact]
    public void Simulate_PythonTwoMoons_AnswersReproducibleTwoMoonsBatches()
    {
        string script = Path.Combine(Repository.Root, "samples", "simulators", "two_moons.py");
        using var simulator = new ExternalSimulator(new ExternalSimulatorOptions
        {
            Command = $"{Python} '{script}'", Workers = 2, ExpectedVariables = ["theta", "x"], BatchTimeout = TimeSpan.FromSeconds(60),
        });

        var batches = simulator.SimulateMany([(500, 7UL), (500, 7UL), (500, 8UL)]);

        Assert.Equal(batches[0].Get("x"), batches[1].Get("x"));
        Assert.NotEqual(batches[0].Get("x"), batches[2].Get("x"));
        Assert.Equal([2], batches[0].SampleShape("theta"));
        var theta = batches[0].Get("theta");
        var x = batches[0].Get("x");
        Assert.All(theta, t => Assert.InRange(t, -1, 1));
        for (int i = 0; i < 500; i++)
        {
            // Undo the rotation of the two moons: what is left is the radius r cos α, r sin α of the noise, with
            // r ~ N(0.1, 0.01²), so |(u, v)| lies within 0.1 ± 6·0.01 for all 500 rows but with probability ~1e-6.
            double t1 = theta[2 * i], t2 = theta[2 * i + 1];
            double u = x[2 * i] - 0.25 + Math.Abs(t1 + t2) / Math.Sqrt(2), v = x[2 * i + 1] - (-t1 + t2) / Math.Sqrt(2);
            Assert.InRange(Math.Sqrt(u * u + v * v), 0.04, 0.16);
            Assert.True(u >= 0, $"row {i}: r cos α = {u} must be non-negative for α in (−π/2, π/2).");
        }
    }

    private sealed class PythonWithNumpyFactAttribute : FactAttribute
    {
        private static readonly Lazy<string?> Missing = new(Check);

        public PythonWithNumpyFactAttribute()
        {
            if (Missing.Value is { } reason) Skip = reason;
        }

        private static string? Check()
        {
            if (!File.Exists(Python)) return $"{Python} is not installed.";
            try
            {
                using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import numpy"]) { RedirectStandardError = true, UseShellExecute = false })!;
                process.StandardError.ReadToEnd();
                if (!process.WaitForExit(30_000)) { process.Kill(); return $"{Python} -c \"import numpy\" did not finish in 30 s."; }
                return process.ExitCode == 0 ? null : $"numpy is not installed for {Python} (`{Python} -c \"import numpy\"` failed).";
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return $"{Python} cannot be started: {e.Message}";
            }
        }
    }
}
