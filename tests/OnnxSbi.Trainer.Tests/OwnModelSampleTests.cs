using System.Globalization;
using System.Text.RegularExpressions;

namespace OnnxSbi.Trainer.Tests;

/// <summary>
/// The samples/OwnModel program, the library users' end-to-end example, run as they would run it: it trains, exports,
/// loads the bundle and prints the network's posterior next to the exact normal-gamma one.
/// </summary>
public sealed class OwnModelSampleTests
{
    [Fact]
    public void OwnModelSample_Quick_TrainsAndMatchesTheExactPosterior()
    {
        string dll = Repository.BuiltProgram("samples/OwnModel", "OwnModel", "OnnxSbi.Trainer.Tests");
        string directory = Directory.CreateTempSubdirectory("onnxsbi-own-model-").FullName;
        try
        {
            var (exitCode, stdout, stderr) = ChildProgram.Run(dll, directory, TimeSpan.FromMinutes(5), "--quick", "--out", "quick.onnxsbi");

            Assert.True(exitCode == 0, $"OwnModel exited with {exitCode}.\n{stdout}\n{stderr}");
            Assert.True(File.Exists(Path.Combine(directory, "quick.onnxsbi")), stdout);
            Assert.Contains("concatenate('mu', 'sigma' -> 'inference_variables', widths [1, 1])", stdout);
            foreach (string parameter in new[] { "mu", "sigma" })
            {
                var match = Regex.Match(stdout, $@"^{parameter}\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", RegexOptions.Multiline);
                Assert.True(match.Success, $"No row for '{parameter}' in:\n{stdout}");
                double Value(int group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
                double exactMean = Value(2), exactSd = Value(3), mean = Value(4), sd = Value(5);
                // The quick run's network matches the exact posterior to a few hundredths of its sd (4,000 draws add a
                // Monte Carlo error of sd/√4000 ≈ 0.016·sd). A quarter of an sd, a shift that two-sample tests barely
                // detect, leaves room for libtorch's rounding on other CPUs and still fails an untrained network, whose
                // draws follow the prior (mu's prior sd is about 1, three times the posterior's).
                Assert.True(Math.Abs(mean - exactMean) < 0.25 * exactSd,
                    $"{parameter}: network mean {mean} vs exact {exactMean} (sd {exactSd}).\n{stdout}");
                Assert.InRange(sd / exactSd, 0.75, 1.33);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
