using Attention.Native.Validation;

namespace Attention.Native.Cpu;

/// <summary>
/// A varlen call on the CPU: each packed sequence runs as its own one-batch problem (<see cref="VarlenValidator.Sequence"/>)
/// on pointers offset to its first rows, so the tiled or decode kernel — whichever its lengths pick — reads the packed
/// rows in place, with no padded copy. Each sequence's call spreads its (head, query block) items over the threads.
/// </summary>
internal static unsafe class VarlenAttention
{
    public static void Run<T>(CpuKernelVariant variant, AttentionProblem problem, in Operands<T> operands, int threads)
        where T : unmanaged
    {
        var offsets = problem.Varlen!;
        int heads = problem.QueryHeads;
        long queryRow = (long)heads * problem.HeadDim;
        long keyRow = (long)problem.KeyValueHeads * problem.HeadDim;
        long valueRow = (long)problem.KeyValueHeads * problem.ValueHeadDim;
        long outputRow = (long)heads * problem.ValueHeadDim;
        // A sequence's kernel writes its log-sum-exp as [1, Hq, Lq]; the call's is [Hq, total_q].
        float[]? sequenceLse = operands.LogSumExp is null ? null : new float[(long)heads * problem.QueryLength];
        for (int b = 0; b < problem.Batch; b++)
        {
            int queries = offsets.QueryLengthOf(b);
            if (queries == 0)
            {
                continue;
            }

            int firstQuery = offsets.Query[b];
            T* output = operands.Output + (firstQuery * outputRow);
            if (offsets.KeyLengthOf(b) == 0)
            {
                // No key: every row is fully masked (O = 0, lse = the sink or −∞), as in a padded call.
                new Span<T>(output, checked((int)(queries * outputRow))).Clear();
                for (int h = 0; h < heads && operands.LogSumExp is not null; h++)
                {
                    new Span<float>(operands.LogSumExp + ((long)h * offsets.TotalQuery) + firstQuery, queries)
                        .Fill(problem.SinkOf(h));
                }

                continue;
            }

            fixed (float* lse = sequenceLse)
            {
                var sequence = operands with
                {
                    Query = operands.Query + (firstQuery * queryRow),
                    Key = operands.Key + (offsets.Key[b] * keyRow),
                    Value = operands.Value + (offsets.Key[b] * valueRow),
                    Output = output,
                    LogSumExp = lse,
                };
                CpuKernels.Run(variant, VarlenValidator.Sequence(problem, b), sequence, threads);
                for (int h = 0; h < heads && lse is not null; h++)
                {
                    new Span<float>(lse + ((long)h * queries), queries)
                        .CopyTo(new Span<float>(operands.LogSumExp + ((long)h * offsets.TotalQuery) + firstQuery, queries));
                }
            }
        }
    }
}
