namespace TrainSample;

/// <summary>Adam (Kingma and Ba) over a list of parameter arrays, updated in place from their gradients.</summary>
internal sealed class Adam(IReadOnlyList<float[]> parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
{
    private readonly float[][] firstMoment = [.. parameters.Select(p => new float[p.Length])];
    private readonly float[][] secondMoment = [.. parameters.Select(p => new float[p.Length])];
    private int step;

    /// <summary>One update; <paramref name="gradients"/> matches the parameters one to one.</summary>
    public void Step(IReadOnlyList<float[]> gradients)
    {
        step++;
        float correction1 = 1 - MathF.Pow(beta1, step), correction2 = 1 - MathF.Pow(beta2, step);
        for (int p = 0; p < parameters.Count; p++)
        {
            float[] parameter = parameters[p], gradient = gradients[p], m = firstMoment[p], v = secondMoment[p];
            for (int i = 0; i < parameter.Length; i++)
            {
                m[i] = (beta1 * m[i]) + ((1 - beta1) * gradient[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * gradient[i] * gradient[i]);
                parameter[i] -= learningRate * (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + epsilon);
            }
        }
    }
}
