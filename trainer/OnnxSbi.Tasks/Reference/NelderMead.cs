namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// The Nelder–Mead simplex method (Nelder &amp; Mead 1965, with the standard coefficients: reflection 1, expansion 2,
/// contraction ½, shrink ½) for maximising a function without gradients; here the log density ratio of the
/// rejection step, whose maximum bounds the ratio.
/// </summary>
internal static class NelderMead
{
    /// <summary>
    /// Maximises <paramref name="f"/> from <paramref name="start"/> with an initial simplex of steps
    /// <paramref name="steps"/> along the axes, for at most <paramref name="maxEvaluations"/> evaluations;
    /// returns the best value seen and where. Non-finite values count as −∞.
    /// </summary>
    public static (double Value, double[] Point) Maximize(Func<double[], double> f, double[] start, double[] steps, int maxEvaluations)
    {
        int d = start.Length;
        var points = new double[d + 1][];
        var values = new double[d + 1];
        int evaluations = 0;
        double Eval(double[] x)
        {
            evaluations++;
            double v = f(x);
            return double.IsNaN(v) ? double.NegativeInfinity : v;
        }
        for (int i = 0; i <= d; i++)
        {
            points[i] = (double[])start.Clone();
            if (i > 0) points[i][i - 1] += steps[i - 1];
            values[i] = Eval(points[i]);
        }
        var centroid = new double[d];
        double[] Toward(double[] from, double t) => Enumerable.Range(0, d).Select(j => centroid[j] + t * (from[j] - centroid[j])).ToArray();
        while (evaluations < maxEvaluations)
        {
            // Best first, worst last.
            var order = Enumerable.Range(0, d + 1).OrderByDescending(i => values[i]).ToArray();
            points = order.Select(i => points[i]).ToArray();
            values = order.Select(i => values[i]).ToArray();
            if (double.IsFinite(values[0]) && values[0] - values[d] < 1e-10 * (1 + Math.Abs(values[0]))) break;
            Array.Clear(centroid);
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) centroid[j] += points[i][j] / d;

            var reflected = Toward(points[d], -1);
            double fr = Eval(reflected);
            if (fr > values[0])
            {
                var expanded = Toward(points[d], -2);
                double fe = Eval(expanded);
                (points[d], values[d]) = fe > fr ? (expanded, fe) : (reflected, fr);
            }
            else if (fr > values[d - 1])
            {
                (points[d], values[d]) = (reflected, fr);
            }
            else
            {
                var contracted = fr > values[d] ? Toward(points[d], -0.5) : Toward(points[d], 0.5);
                double fc = Eval(contracted);
                if (fc > Math.Max(fr, values[d]))
                {
                    (points[d], values[d]) = (contracted, fc);
                }
                else
                {
                    for (int i = 1; i <= d; i++)
                    {
                        for (int j = 0; j < d; j++) points[i][j] = points[0][j] + 0.5 * (points[i][j] - points[0][j]);
                        values[i] = Eval(points[i]);
                    }
                }
            }
        }
        int best = Array.IndexOf(values, values.Max());
        return (values[best], points[best]);
    }
}
