// Your own model, end to end in C#: simulate, adapt, train, export a bundle, load it and sample.
//
// The model: the mean mu and scale sigma of a normal, observed through five draws y. The prior is the
// conjugate normal-gamma one, so the exact posterior is known and printed next to the network's:
//   tau = 1/sigma^2 ~ Gamma(shape a0 = 3, rate b0 = 2),  mu | sigma ~ N(0, sigma^2),  y_j ~ N(mu, sigma^2), j = 1..5.
//
// Usage: dotnet run --project samples/OwnModel -c Release [-- --quick] [--epochs N] [--out model.onnxsbi]

using System.Diagnostics;
using System.Globalization;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Trainer.Adapters;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
int epochs = Argument("--epochs") is { } e ? int.Parse(e) : quick ? 10 : 40;
string bundle = Argument("--out") ?? "own_model.onnxsbi";
int simulations = quick ? 4_096 : 32_768;
const int Draws = 5;

// 1. The simulator, composed like BayesFlow's make_simulator([prior, likelihood]).
var simulator = Simulator.Create(seed: 1)
    .Add("prior", ctx =>
    {
        double[] mu = ctx.Output("mu"), sigma = ctx.Output("sigma");
        for (int i = 0; i < ctx.Rows; i++)
        {
            // Gamma(3, rate 2) as half a sum of three unit exponentials.
            double tau = 0.5 * (Exponential(ctx.Random) + Exponential(ctx.Random) + Exponential(ctx.Random));
            sigma[i] = 1 / Math.Sqrt(tau);
            mu[i] = ctx.Random.NextNormal(0, sigma[i]);
        }
    })
    .Add("likelihood", ctx =>
    {
        double[] mu = ctx.Get("mu"), sigma = ctx.Get("sigma");
        double[] y = ctx.Output("y", Draws);
        for (int i = 0; i < ctx.Rows; i++)
            for (int j = 0; j < Draws; j++) y[i * Draws + j] = ctx.Random.NextNormal(mu[i], sigma[i]);
    });

// 2. The adapter: to_array, convert_dtype, log(sigma), standardize, concatenate mu and sigma, rename y.
var adapter = new AdapterRecipe(["mu", "sigma"], ["y"]).Log("sigma").Standardize(AdapterRecipe.All).Build();

// 3. Train a coupling flow (the catalog's recipe) and export the bundle.
using (var workflow = new BasicWorkflow(simulator, adapter, ["mu", "sigma"], ["y"],
           (d, c) => NetworkCatalog.Get("affine_coupling_flow").Build(d, c, new NetworkOverrides())))
{
    var clock = Stopwatch.StartNew();
    workflow.FitOffline(simulations, validationSets: 512, new TrainingOptions { Epochs = epochs });
    workflow.Export(bundle, "normal mean and scale from five draws (samples/OwnModel)");
    Console.WriteLine($"trained {epochs} epochs on {simulations} simulations in {clock.Elapsed.TotalSeconds:F1} s; " +
                      $"validation loss {workflow.History!.ValidationLoss[^1]:F3}; bundle: {bundle}");
    Console.WriteLine(workflow.Adapter.Describe());
}

// 4. Load the bundle as an application would, and sample at an observation made from a known truth.
const double TrueMu = 1.0, TrueSigma = 0.5;
var random = new SimulationRandom(2024);
double[] y = [.. Enumerable.Range(0, Draws).Select(_ => random.NextNormal(TrueMu, TrueSigma))];
using var model = PosteriorModel.Load(bundle);
var draws = model.Sample(new ArrayBatch(1).Set("y", y, Draws), numDraws: 4_000, new SamplingOptions { Seed = 3 });
var exact = ExactPosterior(y);

Console.WriteLine($"observation y = [{string.Join(", ", y.Select(v => v.ToString("F3")))}]");
Console.WriteLine("parameter     truth  exact mean  exact sd  network mean  network sd");
Row("mu", TrueMu, exact.MuMean, exact.MuSd, draws["mu"]);
Row("sigma", TrueSigma, exact.SigmaMean, exact.SigmaSd, draws["sigma"]);
return 0;

static void Row(string name, double truth, double exactMean, double exactSd, double[] samples)
{
    double mean = samples.Average();
    double sd = Math.Sqrt(samples.Sum(s => (s - mean) * (s - mean)) / samples.Length);
    Console.WriteLine($"{name,-9} {truth,9:F3} {exactMean,11:F3} {exactSd,9:F3} {mean,13:F3} {sd,11:F3}");
}

// The normal-gamma posterior (Murphy 2007, "Conjugate Bayesian analysis of the Gaussian distribution", §3) with
// prior mean 0, kappa0 = 1, a0 = 3, b0 = 2: kappa = 1 + n, m = n·ybar/kappa, a = a0 + n/2,
// b = b0 + ½·Σ(y − ybar)² + n·ybar²/(2·kappa). Then mu is Student-t with mean m and variance b/(kappa·(a − 1)), and
// tau ~ Gamma(a, rate b) gives E[sigma] = √b·Γ(a − ½)/Γ(a) and E[sigma²] = b/(a − 1).
static (double MuMean, double MuSd, double SigmaMean, double SigmaSd) ExactPosterior(double[] y)
{
    int n = y.Length;
    double ybar = y.Average();
    double kappa = 1 + n, m = n * ybar / kappa, a = 3 + n / 2.0;
    double b = 2 + 0.5 * y.Sum(v => (v - ybar) * (v - ybar)) + n * ybar * ybar / (2 * kappa);
    double sigmaMean = Math.Sqrt(b) * HalfStepGammaRatio(a);
    return (m, Math.Sqrt(b / (kappa * (a - 1))), sigmaMean, Math.Sqrt(b / (a - 1) - sigmaMean * sigmaMean));
}

// Γ(a − ½)/Γ(a) for a whole or half-whole a ≥ 1, from Γ(½) = √π, Γ(1) = 1 and Γ(z + 1) = z·Γ(z).
static double HalfStepGammaRatio(double a)
{
    double ratio = a % 1 == 0 ? Math.Sqrt(Math.PI) : 2 / Math.Sqrt(Math.PI);
    for (double z = a % 1 == 0 ? 1 : 1.5; z < a; z++) ratio *= (z - 0.5) / z;
    return ratio;
}

static double Exponential(Random random) => -Math.Log(1 - random.NextDouble());

string? Argument(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
