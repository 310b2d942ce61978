using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

/// <summary>Simulations with every kind of variable an adapter meets, and an adapter that uses every transform of the schema.</summary>
internal static class AdapterFixtures
{
    /// <summary>theta in (−1, 1)², a positive sigma, x in (0, 10)³ and a variable the adapter drops; seeded.</summary>
    public static ArrayBatch Data(int rows, int seed)
    {
        var rng = new Random(seed);
        double[] Draw(int n, Func<double> f) => [.. Enumerable.Range(0, n).Select(_ => f())];
        return new ArrayBatch(rows)
            .Set("theta", Draw(rows * 2, () => rng.NextDouble() * 2 - 1), 2)
            .Set("sigma", Draw(rows, () => 0.1 + rng.NextDouble()))
            .Set("x", Draw(rows * 3, () => 10 * rng.NextDouble()), 3)
            .Set("unused", Draw(rows, rng.NextDouble));
    }

    /// <summary>Every transform of the schema, with given and fitted statistics.</summary>
    public static Adapter Everything() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Drop("unused")
        .Constrain("theta", lower: -1, upper: 1)
        .Constrain("sigma", lower: 0)
        .Sqrt("x")
        .Log("x", p1: true)
        .Standardize(exclude: ["theta"])
        .Standardize("x", mean: 0.5, std: 3)
        .Concatenate(["theta", "sigma"], "inference_variables")
        .Rename("x", "inference_conditions")
        .Keep("inference_variables", "inference_conditions");
}
