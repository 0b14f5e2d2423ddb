using System.Globalization;
using System.Text;

namespace Attention.Native.Perf.Device;

/// <summary>Minimal RFC 4180 CSV: invariant numbers, quoted fields where needed; what the device scripts write and read.</summary>
internal static class Csv
{
    public static string Line(params object?[] fields) => string.Join(',', fields.Select(Field));

    public static string Field(object? value) => value switch
    {
        null => string.Empty,
        double d when double.IsNaN(d) => string.Empty,
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s => Quote(s),
        _ => Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty),
    };

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/>, creating its folder first.</summary>
    public static void Write(string path, string text)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path, text);
    }

    /// <summary>Reads a CSV file with a header line into one dictionary per row (column name to text).</summary>
    public static List<Dictionary<string, string>> Read(string path)
    {
        var rows = new List<Dictionary<string, string>>();
        string[]? header = null;
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = Split(line);
            if (header is null)
            {
                header = [.. fields];
                continue;
            }

            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++)
            {
                row[header[i]] = i < fields.Count ? fields[i] : string.Empty;
            }

            rows.Add(row);
        }

        return rows;
    }

    public static List<string> Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(ch);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>A number field; NaN when empty or not a number.</summary>
    public static double Number(Dictionary<string, string> row, string column) =>
        row.TryGetValue(column, out string? text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : double.NaN;

    public static string Text(Dictionary<string, string> row, string column) =>
        row.TryGetValue(column, out string? text) ? text : string.Empty;

    private static string Quote(string s)
    {
        s = s.Replace('\n', ' ').Replace('\r', ' ');
        return s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal)
            ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\""
            : s;
    }
}
