namespace Attention.Native.Cpu;

/// <summary>
/// Runs work items on a fixed number of workers that take the next item from a shared counter, so uneven items
/// (causal blocks near the diagonal, split-KV chunks) balance themselves.
/// </summary>
internal static class CpuParallel
{
    public delegate void WorkItem(int item, int worker);

    public static void For(int itemCount, int workers, WorkItem body)
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

        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            int item;
            while ((item = Interlocked.Increment(ref next)) < itemCount)
            {
                body(item, worker);
            }
        });
    }
}
