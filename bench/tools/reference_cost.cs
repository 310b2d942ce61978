#:project ../../trainer/OnnxSbi.Tasks/OnnxSbi.Tasks.csproj
using System.Globalization;
using OnnxSbi.Tasks;

// The cost and the diagnostics of a task's reference posterior at one test observation, with the task's own
// reference settings (what SbiTask.SampleReferenceRun uses).
// usage: dotnet run -c Release bench/tools/reference_cost.cs -- TASK [OBSERVATION=0] [DRAWS=10000] [SEED=1]
//   e.g. DOTNET_PROCESSOR_COUNT=1 taskset -c 0 dotnet run -c Release bench/tools/reference_cost.cs -- sir
//   (one core: the chains and the rejection step use every core the runtime reports)
var task = TaskCatalog.Get(args[0]);
int index = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0;
int draws = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
ulong seed = args.Length > 3 ? ulong.Parse(args[3], CultureInfo.InvariantCulture) : 1;
double[] x = task.TestObservations()[(index * task.ObservationDim)..((index + 1) * task.ObservationDim)];
var run = task.SampleReferenceRun(x, draws, seed);
string Join(IEnumerable<double> values, string format) => string.Join(", ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
Console.WriteLine($"{task.Name}, test observation {index + 1}, {run.Count} draws, seed {seed}, {Environment.ProcessorCount} core(s): {run.WallTime.TotalSeconds:F1} s");
if (run.Mcmc is { } mcmc)
    Console.WriteLine($"  MCMC: {mcmc.Chains} chains × {mcmc.DrawsPerChain} draws after {mcmc.WarmupSweeps} warm-up sweeps, {mcmc.LogDensityEvaluations} evaluations; R̂ [{Join(mcmc.RHat, "F4")}], bulk ESS [{Join(mcmc.BulkEss, "F0")}]");
if (run.Rejection is { } rejection)
    Console.WriteLine($"  rejection: {rejection.Components} component(s), {rejection.Proposals} proposals, acceptance {rejection.AcceptanceRate:F3}, exceedances {rejection.Exceedances}");
