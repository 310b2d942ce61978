namespace OnnxSbi.Runtime.Integrators;

/// <summary>
/// An explicit Runge–Kutta method: stage i evaluates f(t + c_i·h, y + h·Σ_j a_ij·k_j); the step is
/// y + h·Σ_i b_i·k_i and, for embedded pairs, the local error estimate is h·Σ_i e_i·k_i with
/// e = b − b̂ (the difference to the embedded lower-order weights).
/// </summary>
internal sealed class ButcherTableau
{
    private ButcherTableau(string name, int order, double[] c, double[][] a, double[] b, double[]? e)
    {
        Name = name;
        Order = order;
        C = c;
        A = a;
        B = b;
        E = e;
        // First-same-as-last: the last stage is evaluated at y_{n+1} itself (its row of A equals b and
        // c = 1), so it is the next step's first stage and costs nothing extra after an accepted step.
        int s = c.Length;
        Fsal = s > 1 && c[s - 1] == 1.0 && b[s - 1] == 0.0
               && Enumerable.Range(0, s - 1).All(j => a[s - 1][j] == b[j]);
    }

    /// <summary>Method name, for messages.</summary>
    public string Name { get; }

    /// <summary>Classical order of the propagated solution.</summary>
    public int Order { get; }

    /// <summary>Nodes c_i, one per stage.</summary>
    public double[] C { get; }

    /// <summary>Rows of the strictly lower-triangular matrix: A[i] has i entries.</summary>
    public double[][] A { get; }

    /// <summary>Weights of the propagated solution.</summary>
    public double[] B { get; }

    /// <summary>Error weights b − b̂ of an embedded pair; null for fixed-step methods.</summary>
    public double[]? E { get; }

    /// <summary>Number of stages.</summary>
    public int Stages => C.Length;

    /// <summary>True when the last stage is f(t + h, y_{n+1}) and can be reused as the next first stage.</summary>
    public bool Fsal { get; }

    /// <summary>Explicit Euler.</summary>
    public static ButcherTableau Euler { get; } = new("euler", 1, [0.0], [[]], [1.0], null);

    /// <summary>The classical fourth-order method (Kutta 1901).</summary>
    public static ButcherTableau Rk4 { get; } = new(
        "rk4", 4,
        [0.0, 0.5, 0.5, 1.0],
        [[], [0.5], [0.0, 0.5], [0.0, 0.0, 1.0]],
        [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6],
        null);

    /// <summary>
    /// Dormand &amp; Prince (1980), "A family of embedded Runge–Kutta formulae", J. Comput. Appl. Math.
    /// 6(1), Table 2 (RK5(4)7M): 5th-order solution (local extrapolation) with an embedded 4th-order
    /// estimate; FSAL.
    /// </summary>
    public static ButcherTableau Dopri5 { get; } = CreateDopri5();

    /// <summary>
    /// Tsitouras (2011), "Runge–Kutta pairs of order 5(4) satisfying only the first column simplifying
    /// assumption", Comput. Math. Appl. 62(2), Table 1: 5th-order solution with an embedded 4th-order
    /// estimate; FSAL.
    /// </summary>
    public static ButcherTableau Tsit5 { get; } = CreateTsit5();

    /// <summary>The tableau of <paramref name="kind"/>.</summary>
    public static ButcherTableau For(IntegratorKind kind) => kind switch
    {
        IntegratorKind.Euler => Euler,
        IntegratorKind.Rk4 => Rk4,
        IntegratorKind.Dopri5 => Dopri5,
        IntegratorKind.Tsit5 => Tsit5,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Expected one of {IntegratorKinds.ValidNames}."),
    };

    private static ButcherTableau CreateDopri5()
    {
        double[] c = [0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0];
        double[][] a =
        [
            [],
            [1.0 / 5],
            [3.0 / 40, 9.0 / 40],
            [44.0 / 45, -56.0 / 15, 32.0 / 9],
            [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
            [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
            [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
        ];
        double[] b = [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0];
        double[] bHat = [5179.0 / 57600, 0.0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40];
        return new ButcherTableau("dopri5", 5, c, a, b, Subtract(b, bHat));
    }

    private static ButcherTableau CreateTsit5()
    {
        double[] c = [0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0];
        // Tsitouras (2011) Table 1 lists a_ij for j >= 2; the first column follows from the row-sum
        // condition c_i = Σ_j a_ij (the paper's "first column simplifying assumption" setting).
        double[][] tail =
        [
            [],
            [],
            [0.3354806554923570],
            [-6.359448489975075, 4.362295432869581],
            [-11.74888356406283, 7.495539342889836, -0.09249506636175525],
            [-12.92096931784711, 8.159367898576159, -0.07158497328140100, -0.02826905039406838],
            [0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774],
        ];
        double[][] a = new double[7][];
        a[0] = [];
        for (int i = 1; i < 7; i++)
        {
            a[i] = new double[i];
            a[i][0] = c[i] - tail[i].Sum();
            tail[i].CopyTo(a[i], 1);
        }
        double[] b = [.. a[6], 0.0];
        // Table 1's embedded weights enter as the error coefficients b_i − b̂_i.
        double[] e =
        [
            -0.001780011052226, -0.000816434459657, 0.007880878010262, -0.144711007173263,
            0.582357165452555, -0.458082105929187, 1.0 / 66,
        ];
        return new ButcherTableau("tsit5", 5, c, a, b, e);
    }

    private static double[] Subtract(double[] x, double[] y)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = x[i] - y[i];
        return r;
    }
}
