using OnnxSbi.Simulations.External;
using OnnxSbi.Tasks;

namespace OnnxSbi.Simulations.Tests.External;

/// <summary>
/// A crashed or hung child is restarted while retries remain, and then fails with an error naming the command and
/// quoting its last standard-error lines; an unusable answer (wrong shape, missing variable, NaN, garbage, a huge length)
/// fails at once, naming the variable or quoting the bytes.
/// </summary>
public sealed class ExternalSimulatorFailureTests
{
    [Fact]
    public void Simulate_ChildSleepsPastTimeout_FailsAfterRetriesNamingCommandAndStandardError()
    {
        var logger = new CollectingLogger();
        var options = TestSimulator.Options("--sleep", "30") with { BatchTimeout = TimeSpan.FromSeconds(1.5), Retries = 1, Logger = logger };
        using var simulator = new ExternalSimulator(options);

        var e = Assert.Throws<ExternalSimulatorException>(() => simulator.Simulate(4, seed: 9));

        Assert.Contains(options.Command, e.Message);
        Assert.Contains("did not answer within the batch timeout of 1.5 s", e.Message);
        Assert.Contains("2 time(s)", e.Message);
        Assert.Contains("test simulator: request 1, batch_size 4, seed 9", e.Message);
        Assert.Contains("test simulator: request 1, batch_size 4, seed 9", e.StandardErrorTail);
        Assert.Single(logger.Entries, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Message.Contains("restarting"));
    }

    [Fact]
    public void Simulate_ChildCrashesEveryTime_FailsAfterRetriesWithItsLastStandardErrorLines()
    {
        var options = TestSimulator.Options("--crash-always") with { Retries = 2 };
        using var simulator = new ExternalSimulator(options);

        var e = Assert.Throws<ExternalSimulatorException>(() => simulator.Simulate(4, seed: 9));

        Assert.Equal(options.Command, e.Command);
        Assert.Contains(options.Command, e.Message);
        Assert.Contains("3 time(s), so the 2 retries are spent", e.Message);
        Assert.Contains("exited with code 3", e.Message);
        Assert.Contains("test simulator: crashing on purpose at request 1", e.Message);
    }

    [Fact]
    public void Simulate_ChildCrashesAfterOneAnswer_IsRestartedAndAnswersLikeAWellBehavedOne()
    {
        using var simulator = new ExternalSimulator(TestSimulator.Options("--crash-after", "1") with { Retries = 1 });

        for (ulong seed = 1; seed <= 3; seed++)
        {
            var batch = simulator.Simulate(6, seed);
            Assert.Equal(TwoMoons.CreateSimulator(seed).Sample(6, seed).Get("x"), batch.Get("x"));
        }
    }

    [Fact]
    public void Simulate_CommandNotFound_FailsQuotingTheShell()
    {
        using var simulator = new ExternalSimulator(new ExternalSimulatorOptions { Command = "onnxsbi-no-such-simulator --flag", Retries = 0 });

        var e = Assert.Throws<ExternalSimulatorException>(() => simulator.Simulate(4, seed: 1));

        Assert.Contains("onnxsbi-no-such-simulator", e.Message);
        Assert.Contains("exited with code 127", e.Message);
        Assert.Contains(e.StandardErrorTail, l => l.Contains("not found"));
    }

    [Theory]
    [InlineData(new[] { "--wrong-rows" }, "variable 'x' of shape (9, 2); expected a leading dimension of 8")]
    [InlineData(new[] { "--missing", "theta" }, "no variable 'theta'; it holds 'x'. Every response must hold 'theta', 'x'")]
    [InlineData(new[] { "--nan-row", "3" }, "NaN in variable 'x' at row 3 (of 8)")]
    [InlineData(new[] { "--garbage" }, "48 65 6c 6c 6f 20 66 72 (\"Hello fr\"), which look like text")]
    [InlineData(new[] { "--huge-length" }, "a length prefix of 1099511627776 bytes, more than the limit")]
    public void Simulate_UnusableAnswer_FailsAtOnceNamingTheProblem(string[] args, string expected)
    {
        var logger = new CollectingLogger();
        var options = TestSimulator.Options(args) with { ExpectedVariables = ["theta", "x"], Logger = logger };
        using var simulator = new ExternalSimulator(options);

        var e = Assert.Throws<ExternalSimulatorException>(() => simulator.Simulate(8, seed: 2));

        Assert.Contains(expected, e.Message);
        Assert.Contains(options.Command, e.Message);
        Assert.Contains("{\"protocol\": 1, \"batch_size\": 8, \"seed\": 2}", e.Message);
        Assert.DoesNotContain(logger.Entries, l => l.Message.Contains("restarting"));
    }

    [Fact]
    public void Simulate_ShapeChangesAfterFirstAnswer_FailsNamingTheFirstShape()
    {
        using var simulator = new ExternalSimulator(TestSimulator.Options("--shape-change-after", "1"));
        simulator.Simulate(4, seed: 1);

        var e = Assert.Throws<ExternalSimulatorException>(() => simulator.Simulate(4, seed: 2));

        Assert.Contains("variable 'x' of shape (4, 3); the first response fixed its per-sample shape, so expected (4, 2)", e.Message);
    }

    [Fact]
    public void Simulate_NaNAllowed_PassesTheRowThrough()
    {
        using var simulator = new ExternalSimulator(TestSimulator.Options("--nan-row", "3") with { RejectNonFinite = false });

        var batch = simulator.Simulate(8, seed: 2);

        Assert.True(double.IsNaN(batch.Get("x")[3 * 2 + 1]));
        Assert.Equal(15, batch.Get("x").Count(double.IsFinite));
    }
}
