namespace Attention.Native.Tests.Layers;

/// <summary>
/// Central finite differences of a float64 loss with respect to float parameters: each element is moved by ±h as far
/// as float allows, and the difference divides by the steps actually taken (not 2h), so that float's rounding of
/// <c>x ± h</c> adds no error; what is left is the <c>O(h²)</c> truncation of the float64 loss.
/// </summary>
internal static class FiniteDifferences
{
    /// <summary>dLoss/dParameter for every element of <paramref name="parameters"/> (restored afterwards).</summary>
    public static double[] Gradient(float[] parameters, Func<double> loss, double h = 1e-3)
    {
        var gradient = new double[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            float original = parameters[i];
            parameters[i] = (float)(original + h);
            double up = loss(), stepUp = (double)parameters[i] - original;
            parameters[i] = (float)(original - h);
            double down = loss(), stepDown = (double)parameters[i] - original;
            parameters[i] = original;
            gradient[i] = (up - down) / (stepUp - stepDown);
        }

        return gradient;
    }

    /// <summary><c>Σ output·weights</c>: a loss whose gradient with respect to the output is <paramref name="weights"/>.</summary>
    public static double Dot(double[] output, float[] weights)
    {
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            sum += output[i] * weights[i];
        }

        return sum;
    }
}
