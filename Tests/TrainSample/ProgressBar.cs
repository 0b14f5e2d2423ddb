namespace TrainSample;

/// <summary>A one-line progress bar with the loss: redrawn in place on a terminal, a line per tenth when redirected.</summary>
internal sealed class ProgressBar(int total)
{
    private const int Width = 30;
    private int lastTenth = -1;

    public void Report(int done, float loss)
    {
        int filled = (int)((long)done * Width / total);
        string line = $"[{new string('#', filled)}{new string('.', Width - filled)}] step {done,4}/{total}  loss {loss:F4}";
        if (!Console.IsOutputRedirected)
        {
            Console.Write("\r" + line);
            if (done == total)
            {
                Console.WriteLine();
            }

            return;
        }

        int tenth = (int)((long)done * 10 / total);
        if (tenth != lastTenth)
        {
            lastTenth = tenth;
            Console.WriteLine(line);
        }
    }
}
