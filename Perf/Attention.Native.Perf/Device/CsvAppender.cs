using System.Text;

namespace Attention.Native.Perf.Device;

/// <summary>
/// Appends rows to a CSV file as they are produced, each flushed to the file at once, so that a process killed at its
/// time limit keeps every row it finished. The header is written when the file is new or empty; the device script runs
/// one process per kernel family, each appending to the same file in turn.
/// </summary>
internal sealed class CsvAppender : IDisposable
{
    private readonly StreamWriter writer;
    private readonly Lock gate = new();

    /// <exception cref="InvalidDataException">The file exists with another header (another tool's, or an older one's).</exception>
    public CsvAppender(string path, string header)
    {
        Path = path;
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        string? existing = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#')) : null;
        if (existing is not null && existing != header)
        {
            throw new InvalidDataException($"{path} has another header ('{existing}'); expected '{header}'. Write to a new file.");
        }

        writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        if (existing is null)
        {
            Append(header);
        }
    }

    public string Path { get; }

    /// <summary>Writes one line and flushes it to the file (thread-safe).</summary>
    public void Append(string line)
    {
        lock (gate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            writer.Dispose();
        }
    }
}
