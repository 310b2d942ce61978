using OnnxSbi.Runtime.Adapters;

namespace OnnxSbi.Runtime.Tests.Adapters;

public class AdapterStandardizeTests
{
    [Fact]
    public void Fit_ElementwiseStatistics_AreMeanAndPopulationStdOverRows()
    {
        // Column 0: 1, 3, 5 (mean 3, population std √(8/3)); column 1: 10, 10, 40 (mean 20, std √200).
        var data = new ArrayBatch(3).Set("x", [1, 10, 3, 10, 5, 40], 2);

        var spec = Adapter.Create().Standardize().Fit(data).ToSpec();

        var moments = spec.Steps[0].Standardize.Moments["x"];
        // Sums of three small integers and one square root: exact to a few ulps, hence 1e-15.
        Assert.Equal(3, moments.Mean[0], 1e-15);
        Assert.Equal(20, moments.Mean[1], 1e-15);
        Assert.Equal(Math.Sqrt(8.0 / 3), moments.Std[0], 1e-15);
        Assert.Equal(Math.Sqrt(200), moments.Std[1], 1e-13);
    }

    [Fact]
    public void Forward_AfterFit_GivesZeroMeanUnitStdPerElement()
    {
        var rng = new Random(11);
        int rows = 1000;
        var x = new double[rows * 2];
        for (int i = 0; i < rows; i++)
        {
            x[2 * i] = 5 + 3 * rng.NextDouble();
            x[2 * i + 1] = -100 + 40 * rng.NextDouble();
        }
        var data = new ArrayBatch(rows).Set("x", x, 2);

        var z = Adapter.Create().Standardize().Fit(data).Forward(data).Get("x");

        for (int j = 0; j < 2; j++)
        {
            var column = Enumerable.Range(0, rows).Select(i => z[2 * i + j]).ToArray();
            double mean = column.Average();
            double std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
            // Exact algebra up to accumulated rounding over 1000 rows (~1e-13).
            Assert.Equal(0, mean, 1e-12);
            Assert.Equal(1, std, 1e-12);
        }
    }

    [Fact]
    public void Fit_ConstantVariable_FloorsStdAndCentres()
    {
        var data = new ArrayBatch(4).Set("c", [7, 7, 7, 7]).Set("y", [1, 2, 3, 4]);
        var adapter = Adapter.Create().Standardize().Fit(data);

        var moments = adapter.ToSpec().Steps[0].Standardize.Moments["c"];
        var z = adapter.Forward(data).Get("c");

        Assert.Equal(Adapter.MinimumStd, moments.Std[0]);
        Assert.All(z, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Fit_Twice_KeepsTheFirstStatistics()
    {
        var first = new ArrayBatch(2).Set("x", [0, 2]);
        var second = new ArrayBatch(2).Set("x", [100, 300]);
        var adapter = Adapter.Create().Standardize().Fit(first);

        adapter.Fit(second);

        Assert.Equal([-1, 1], adapter.Forward(first).Get("x"));
    }

    [Fact]
    public void Standardize_IncludeAndExclude_SelectVariables()
    {
        var data = new ArrayBatch(2).Set("a", [0, 2]).Set("b", [0, 2]).Set("c", [0, 2]);

        var included = Adapter.Create().Standardize(include: ["a"]).Fit(data).Forward(data);
        var excluded = Adapter.Create().Standardize(exclude: ["a"]).Fit(data).Forward(data);

        Assert.Equal([-1, 1], included.Get("a"));
        Assert.Equal([0, 2], included.Get("b"));
        Assert.Equal([0, 2], excluded.Get("a"));
        Assert.Equal([-1, 1], excluded.Get("b"));
        Assert.Equal([-1, 1], excluded.Get("c"));
    }

    [Fact]
    public void Standardize_GivenStatistics_ApplyWithoutFit()
    {
        var data = new ArrayBatch(2).Set("x", [3, 10, 5, 14], 2);
        var adapter = Adapter.Create().Standardize("x", mean: [1, 2], std: [2, 4]);

        var z = adapter.Forward(data).Get("x");
        var back = adapter.Inverse(new ArrayBatch(2).Set("x", z, 2)).Get("x");

        Assert.True(adapter.IsFitted);
        Assert.Equal([1, 2, 2, 3], z);
        Assert.Equal(data.Get("x"), back);
    }

    [Fact]
    public void Standardize_ScalarStatistics_ApplyToEveryElement()
    {
        var data = new ArrayBatch(1).Set("x", [3, 5, 7], 3);

        var z = Adapter.Create().Standardize("x", mean: 5, std: 2).Forward(data).Get("x");

        Assert.Equal([-1, 0, 1], z);
    }

    [Fact]
    public void Forward_BeforeFit_ThrowsAskingForFit()
    {
        var adapter = Adapter.Create().Standardize(exclude: ["theta"]);
        var data = new ArrayBatch(1).Set("theta", [0.0]).Set("x", [1.0]);

        var ex = Assert.Throws<OnnxSbiException>(() => adapter.Forward(data));

        Assert.False(adapter.IsFitted);
        Assert.Contains("'x'", ex.Message);
        Assert.Contains("Adapter.Fit", ex.Message);
    }

    [Fact]
    public void Forward_VariableAbsentAtFit_ThrowsNamingIt()
    {
        var adapter = Adapter.Create().Standardize().Fit(new ArrayBatch(2).Set("x", [0, 1]));

        var ex = Assert.Throws<OnnxSbiException>(() => adapter.Forward(new ArrayBatch(1).Set("y", [0.0])));

        Assert.Contains("'y'", ex.Message);
        Assert.Contains("absent from the data given to Adapter.Fit", ex.Message);
    }

    [Fact]
    public void Forward_StatisticsOfOtherWidth_ThrowsShapeMismatch()
    {
        var adapter = Adapter.Create().Standardize("x", mean: [0, 0], std: [1, 1]);

        var ex = Assert.Throws<ShapeMismatchException>(() => adapter.Forward(new ArrayBatch(1).Set("x", [1, 2, 3], 3)));

        Assert.Equal("x", ex.VariableName);
        Assert.Contains("2 values per row", ex.Message);
        Assert.Contains("3 values per row", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Standardize_NonPositiveGivenStd_IsRejected(double std)
    {
        var ex = Assert.Throws<ArgumentException>(() => Adapter.Create().Standardize("x", 0, std));

        Assert.Contains("'x'", ex.Message);
    }
}
