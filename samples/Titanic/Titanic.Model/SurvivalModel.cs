using System.Globalization;

namespace Titanic.Model;

/// <summary>One passenger profile: the three facts the Board of Trade counts record.</summary>
public sealed record Passenger(string Class, string Sex, string Age);

/// <summary>
/// Logistic regression of survival on class, sex and age, fitted by Newton's method (IRLS) on
/// the weighted counts. Four classes become three indicator columns (1st is the baseline).
/// </summary>
public sealed class SurvivalModel
{
    public static readonly string[] Classes = ["1st", "2nd", "3rd", "crew"];
    public static readonly string[] Sexes = ["male", "female"];
    public static readonly string[] Ages = ["child", "adult"];
    public static readonly string[] FeatureNames = ["intercept", "class=2nd", "class=3rd", "class=crew", "sex=female", "age=child"];

    private readonly double[] _weights;
    private readonly Dictionary<Passenger, (int Survived, int Total)> _observed;

    private SurvivalModel(double[] weights, Dictionary<Passenger, (int, int)> observed, int iterations, double accuracy, int people)
    {
        _weights = weights;
        _observed = observed;
        Iterations = iterations;
        TrainingAccuracy = accuracy;
        People = people;
    }

    public int Iterations { get; }

    public double TrainingAccuracy { get; }

    public int People { get; }

    public IReadOnlyDictionary<string, double> Coefficients =>
        FeatureNames.Zip(_weights).ToDictionary(p => p.First, p => Math.Round(p.Second, 4));

    public double Predict(Passenger passenger) => Sigmoid(Dot(_weights, Features(passenger)));

    public (int Survived, int Total) Observed(Passenger passenger) => _observed.GetValueOrDefault(passenger);

    public static SurvivalModel Train(string csvPath)
    {
        var rows = new List<(double[] X, bool Survived, int Count)>();
        var observed = new Dictionary<Passenger, (int Survived, int Total)>();
        foreach (var line in File.ReadLines(csvPath).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 5)
            {
                continue;
            }

            var passenger = new Passenger(f[0], f[1], f[2]);
            var survived = f[3] == "yes";
            var count = int.Parse(f[4], CultureInfo.InvariantCulture);
            rows.Add((Features(passenger), survived, count));
            var (s, t) = observed.GetValueOrDefault(passenger);
            observed[passenger] = (s + (survived ? count : 0), t + count);
        }

        var weights = new double[FeatureNames.Length];
        var iterations = 0;
        for (; iterations < 50; iterations++)
        {
            var gradient = new double[weights.Length];
            var hessian = new double[weights.Length, weights.Length];
            foreach (var (x, survived, count) in rows)
            {
                var p = Sigmoid(Dot(weights, x));
                var error = (survived ? 1 : 0) - p;
                for (var i = 0; i < x.Length; i++)
                {
                    gradient[i] += count * error * x[i];
                    for (var j = 0; j < x.Length; j++)
                    {
                        hessian[i, j] += count * p * (1 - p) * x[i] * x[j];
                    }
                }
            }

            // A little ridge keeps the step defined for cells with no people (child crew).
            for (var i = 0; i < weights.Length; i++)
            {
                hessian[i, i] += 1e-6;
            }

            var step = Solve(hessian, gradient);
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] += step[i];
            }

            if (step.Max(Math.Abs) < 1e-9)
            {
                break;
            }
        }

        double correct = 0, people = 0;
        foreach (var (x, survived, count) in rows)
        {
            correct += (Sigmoid(Dot(weights, x)) >= 0.5) == survived ? count : 0;
            people += count;
        }

        return new SurvivalModel(weights, observed, iterations + 1, correct / people, (int)people);
    }

    private static double[] Features(Passenger p) =>
    [
        1,
        p.Class == "2nd" ? 1 : 0,
        p.Class == "3rd" ? 1 : 0,
        p.Class == "crew" ? 1 : 0,
        p.Sex == "female" ? 1 : 0,
        p.Age == "child" ? 1 : 0,
    ];

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    // Gaussian elimination with partial pivoting: the system is 6x6.
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
            {
                if (Math.Abs(m[row, col]) > Math.Abs(m[pivot, col]))
                {
                    pivot = row;
                }
            }

            for (var k = 0; k < n; k++)
            {
                (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            }

            (x[col], x[pivot]) = (x[pivot], x[col]);
            for (var row = col + 1; row < n; row++)
            {
                var factor = m[row, col] / m[col, col];
                for (var k = col; k < n; k++)
                {
                    m[row, k] -= factor * m[col, k];
                }

                x[row] -= factor * x[col];
            }
        }

        for (var row = n - 1; row >= 0; row--)
        {
            for (var k = row + 1; k < n; k++)
            {
                x[row] -= m[row, k] * x[k];
            }

            x[row] /= m[row, row];
        }

        return x;
    }
}
