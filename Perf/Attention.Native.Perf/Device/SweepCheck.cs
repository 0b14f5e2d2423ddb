using Attention.Native.Reference;

namespace Attention.Native.Perf.Device;

/// <summary>
/// The checks of the tests' AttentionChecker, applied to a sweep case's outputs: relative error within the element
/// type's bound, no NaN anywhere (outputs were poisoned with NaN, so an unwritten element shows), fully masked rows
/// exactly 0 with log-sum-exp −∞, log-sum-exp and probabilities element-wise, and no write outside a strided view.
/// </summary>
internal static class SweepCheck
{
    /// <summary>Checks <paramref name="outputs"/>, recording each kind of failure once in <paramref name="result"/>.</summary>
    /// <returns>The relative error of the output (NaN if it holds NaN) and the number of NaN elements.</returns>
    public static (double Error, int NaNs) Against<T>(
        ReferenceResult reference, SweepData<T> data, BackendOutputs<T> outputs, SweepResult result, string backend)
        where T : unmanaged
    {
        var c = data.Case;
        var s = c.Shape;
        var o = OutputStrides(c);
        var options = data.Options;
        int nans = 0;
        string? maskedRowFailure = null;
        int row = 0;
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++, row++)
                {
                    bool masked = double.IsNegativeInfinity(reference.LogSumExp[row]);
                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    for (int x = 0; x < s.ValueHeadDim; x++)
                    {
                        float value = ElementType.ToSingle(outputs.Output[start + x]);
                        if (float.IsNaN(value))
                        {
                            nans++;
                        }
                        else if (masked && value != 0 && maskedRowFailure is null)
                        {
                            maskedRowFailure = $"{backend}: fully masked row b={b} h={h} i={i} is not 0 ({value})";
                        }
                    }
                }
            }
        }

        double error = reference.RelativeError<T>(outputs.Output, options.Layout, options.OutputStrides);
        if (nans > 0)
        {
            result.Fail($"{backend}: {nans} NaN in the output");
        }
        else if (!(error <= c.Tolerance))
        {
            result.Fail($"{backend}: relative error {error:E2} > {c.Tolerance:E1}");
        }

        if (maskedRowFailure is not null)
        {
            result.Fail(maskedRowFailure);
        }

        nans += CheckLogSumExp(reference, outputs.LogSumExp, ScoreRounding(c), result, backend);
        nans += CheckProbabilities(reference, outputs.Probabilities, result, backend);
        if (c.Layout == SweepLayout.Padded)
        {
            CheckGapsUntouched(c, outputs.Output, result, backend);
        }

        return (nans > 0 ? double.NaN : error, nans);
    }

    /// <summary>‖a − b‖ / ‖ref‖ (‖a − b‖ where the reference is all zeros) and max |a − b| over the output view.</summary>
    public static (double Relative, double MaxAbs) Difference<T>(
        ReferenceResult reference, SweepData<T> data, BackendOutputs<T> a, BackendOutputs<T> b)
        where T : unmanaged
    {
        var s = data.Case.Shape;
        var o = OutputStrides(data.Case);
        double squares = 0;
        double norm = 0;
        double maxAbs = 0;
        int index = 0;
        for (int batch = 0; batch < s.Batch; batch++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++)
                {
                    long start = (batch * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    for (int x = 0; x < s.ValueHeadDim; x++, index++)
                    {
                        double d = (double)ElementType.ToSingle(a.Output[start + x]) - ElementType.ToSingle(b.Output[start + x]);
                        squares += d * d;
                        maxAbs = double.IsNaN(d) ? double.NaN : Math.Max(maxAbs, Math.Abs(d));
                        double expected = reference.Output[index];
                        norm += expected * expected;
                    }
                }
            }
        }

        return (norm > 0 ? Math.Sqrt(squares / norm) : Math.Sqrt(squares), maxAbs);
    }

    private static TensorStrides OutputStrides(SweepCase c)
    {
        var s = c.Shape;
        return c.Geometry.Output
            ?? TensorStrides.Contiguous(c.Layout == SweepLayout.Bshd ? AttentionLayout.Bshd : AttentionLayout.Bhsd, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
    }

    /// <summary>
    /// A bound on the fp32 rounding of one score, <c>4·2⁻²⁴·D·amplitude²·|scale|</c>, which the log-sum-exp inherits:
    /// negligible for ordinary operands (4e-6 at D = 256), but ±0.1 or more for huge scores, where the log-sum-exp itself
    /// may be small (scores that nearly cancel) and a purely relative bound would fail an exact kernel.
    /// </summary>
    private static double ScoreRounding(SweepCase c)
    {
        double scale = Math.Abs(c.Scale ?? 1.0 / Math.Sqrt(c.Shape.HeadDim));
        return 4 * Math.ScaleB(1.0, -24) * c.Shape.HeadDim * c.Amplitude * c.Amplitude * scale;
    }

    private static int CheckLogSumExp(ReferenceResult reference, float[] lse, double slack, SweepResult result, string backend)
    {
        int nans = 0;
        bool failed = false;
        for (int i = 0; i < lse.Length; i++)
        {
            double expected = reference.LogSumExp[i];
            float actual = lse[i];
            if (float.IsNaN(actual))
            {
                nans++;
                continue;
            }

            bool ok = double.IsNegativeInfinity(expected)
                ? float.IsNegativeInfinity(actual)
                : Math.Abs(actual - expected) <= (2e-5 * Math.Max(1, Math.Abs(expected))) + slack;
            if (!ok && !failed)
            {
                failed = true;
                result.Fail($"{backend}: lse[{i}] = {actual}, expected {expected}");
            }
        }

        if (nans > 0)
        {
            result.Fail($"{backend}: {nans} NaN in the log-sum-exp");
        }

        return nans;
    }

    private static int CheckProbabilities(ReferenceResult reference, float[] probabilities, SweepResult result, string backend)
    {
        int nans = 0;
        bool failed = false;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double expected = reference.Probabilities[i];
            float actual = probabilities[i];
            if (float.IsNaN(actual))
            {
                nans++;
            }
            else if (Math.Abs(actual - expected) > 2e-6 + (2e-5 * expected) && !failed)
            {
                failed = true;
                result.Fail($"{backend}: probabilities[{i}] = {actual}, expected {expected}");
            }
        }

        if (nans > 0)
        {
            result.Fail($"{backend}: {nans} NaN in the probabilities");
        }

        return nans;
    }

    /// <summary>Elements between the rows, heads and batches of a padded output must still hold the NaN poison.</summary>
    private static void CheckGapsUntouched<T>(SweepCase c, T[] output, SweepResult result, string backend)
        where T : unmanaged
    {
        var s = c.Shape;
        var o = OutputStrides(c);
        var written = new bool[output.Length];
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++)
                {
                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    Array.Fill(written, true, (int)start, s.ValueHeadDim);
                }
            }
        }

        for (int i = 0; i < output.Length; i++)
        {
            if (!written[i] && !float.IsNaN(ElementType.ToSingle(output[i])))
            {
                result.Fail($"{backend}: element {i} outside the strided output view was written");
                return;
            }
        }
    }
}
