namespace Attention.Native.Cpu;

/// <summary>
/// Runs work items on a fixed number of workers that take the next item from a shared counter, so uneven items
/// (causal blocks near the diagonal, split-KV chunks) balance themselves.
/// </summary>
internal static class CpuParallel
{
    public delegate void WorkItem(int item, int worker);

    public static void For(int itemCount, int workers, WorkItem body) => For(itemCount, workers, 1, body);

    /// <summary>
    /// <see cref="For(int, int, WorkItem)"/> with items taken <paramref name="chunk"/> consecutive ones at a time, so
    /// that neighbouring items (which share cache lines or prefetched neighbours) run on one worker.
    /// </summary>
    public static void For(int itemCount, int workers, int chunk, WorkItem body)
    {
        workers = Math.Clamp(workers, 1, Math.Max(itemCount, 1));
        if (workers == 1)
        {
            for (int i = 0; i < itemCount; i++)
            {
                body(i, 0);
            }

            return;
        }

        int next = 0;
        chunk = Math.Max(chunk, 1);
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            int first;
            while ((first = Interlocked.Add(ref next, chunk) - chunk) < itemCount)
            {
                int end = Math.Min(first + chunk, itemCount);
                for (int item = first; item < end; item++)
                {
                    body(item, worker);
                }
            }
        });
    }
}
