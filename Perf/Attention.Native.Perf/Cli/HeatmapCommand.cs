using System.Globalization;
using Attention.Native.Cpu;
using Attention.Native.Perf.Charts;
using Attention.Native.Perf.Workloads;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>heatmap</c>: runs <see cref="AttentionBackend.ScaledDotProductAttention{T}(AttentionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, AttentionOptions?, Span{float}, Span{float})"/>
/// on the CPU backend with the probabilities output and draws one head's weights as a PNG heat map. Exit code 1 when
/// a row of weights does not sum to 1 or a masked weight is not 0.
/// </summary>
internal sealed class HeatmapCommand : Command<HeatmapSettings>
{
    public override int Execute(CommandContext context, HeatmapSettings settings, CancellationToken cancellationToken)
    {
        int heads = settings.Heads, dim = settings.Dim;
        IReadOnlyList<string> queryTokens, keyTokens;
        float[] query, key, value;
        if (settings.Random)
        {
            queryTokens = [.. Enumerable.Range(0, settings.QueryLength).Select(i => i.ToString(CultureInfo.InvariantCulture))];
            keyTokens = [.. Enumerable.Range(0, settings.KeyLength).Select(i => i.ToString(CultureInfo.InvariantCulture))];
            var operands = RandomOperands.Create(
                new AttentionShape(1, heads, queryTokens.Count, keyTokens.Count, dim), new Random(settings.Seed));
            (query, key, value) = (operands.Query, operands.Key, operands.Value);
        }
        else
        {
            queryTokens = settings.QueryTokens;
            keyTokens = settings.KeyTokens;
            query = CaseStudy.Embed(queryTokens, heads, dim, settings.Seed);
            key = CaseStudy.Embed(keyTokens, heads, dim, settings.Seed);
            value = key.ToArray();
        }

        int lq = queryTokens.Count, lk = keyTokens.Count;
        var shape = new AttentionShape(1, heads, lq, lk, dim);
        var output = new float[shape.OutputElementCount];
        var probabilities = new float[(long)heads * lq * lk];
        var options = new AttentionOptions { Causal = settings.Causal ? CausalMask.TopLeft : CausalMask.None };
        using (var backend = new CpuBackend())
        {
            backend.ScaledDotProductAttention<float>(shape, query, key, value, output, options, probabilities: probabilities);
        }

        var weights = new double[lq, lk];
        int offset = settings.Head * lq * lk;
        for (int q = 0; q < lq; q++)
        {
            for (int k = 0; k < lk; k++)
            {
                weights[q, k] = probabilities[offset + (q * lk) + k];
            }
        }

        try
        {
            ChartFonts.Configure(settings.Font);
        }
        catch (ArgumentException e)
        {
            AnsiConsole.MarkupLine($"[red]Error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.BadArguments;
        }

        var (queryLabels, queryFont) = Labels(queryTokens, "query");
        var (keyLabels, keyFont) = Labels(keyTokens, "key");
        string path = settings.Out ?? Path.Combine(
            "artifacts", "perf", $"heatmap-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.png");
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        string what = settings.Random
            ? $"random Q, K, V (seed {settings.Seed})"
            : $"\"{string.Join(' ', queryLabels)}\" attending to \"{string.Join(' ', keyLabels)}\"";
        string title = $"Attention weights, head {settings.Head} of {heads}: {what}\n" +
            $"Lq {lq}, Lk {lk}, D {dim}, {(settings.Causal ? "causal (top-left)" : "no mask")}, CPU backend";
        AttentionHeatmap.Write(weights, queryLabels, keyLabels, queryFont, keyFont, title, path, queryFont ?? keyFont);

        WriteTable(weights, queryTokens, keyTokens);
        AnsiConsole.WriteLine(ChartFonts.Describe());
        AnsiConsole.WriteLine($"Wrote {Path.GetFullPath(path)}.");
        return Check(probabilities, heads, lq, lk, settings.Causal);
    }

    /// <summary>The axis labels: the tokens, or where a token needs CJK glyphs and no CJK font exists, its pinyin or
    /// index (said on the console, so no label is drawn as empty boxes).</summary>
    private static (string[] Labels, string? Font) Labels(IReadOnlyList<string> tokens, string axis)
    {
        if (!tokens.Any(CaseStudy.NeedsCjk))
        {
            return ([.. tokens], null);
        }

        if (ChartFonts.CjkFile is not null)
        {
            return ([.. tokens], ChartFonts.CjkName);
        }

        bool toneMarks = ChartFonts.LatinHasGlyphs("ǒìīāǐí");
        string[] labels = [.. tokens.Select((t, i) => CaseStudy.NeedsCjk(t) ? CaseStudy.Transliterate(t, i, toneMarks) : t)];
        AnsiConsole.WriteLine(
            $"No CJK-capable font found (pass --font FILE or install one, e.g. fonts-noto-cjk): the {axis} axis is labelled " +
            $"with transliterations: {string.Join(", ", tokens.Select((t, i) => $"{t} = {labels[i]}"))}.");
        return (labels, null);
    }

    private static void WriteTable(double[,] weights, IReadOnlyList<string> queryTokens, IReadOnlyList<string> keyTokens)
    {
        if (queryTokens.Count > 16 || keyTokens.Count > 16)
        {
            return;
        }

        var table = new Table().AddColumn("query \\ key");
        foreach (string token in keyTokens)
        {
            table.AddColumn(new TableColumn(Markup.Escape(token)).RightAligned());
        }

        for (int q = 0; q < queryTokens.Count; q++)
        {
            table.AddRow([Markup.Escape(queryTokens[q]), .. Enumerable.Range(0, keyTokens.Count)
                .Select(k => weights[q, k].ToString("0.000", CultureInfo.InvariantCulture))]);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Every row of every head sums to 1 and masked weights are 0.</summary>
    private static int Check(float[] probabilities, int heads, int lq, int lk, bool causal)
    {
        for (int h = 0; h < heads; h++)
        {
            for (int q = 0; q < lq; q++)
            {
                var row = probabilities.AsSpan(((h * lq) + q) * lk, lk);
                double sum = 0;
                for (int k = 0; k < lk; k++)
                {
                    sum += row[k];
                    if (!float.IsFinite(row[k]) || row[k] < 0 || (causal && k > q && row[k] != 0))
                    {
                        AnsiConsole.MarkupLine($"[red]Check failed:[/] head {h}, query {q}, key {k}: weight {row[k]}.");
                        return ExitCodes.Failure;
                    }
                }

                if (Math.Abs(sum - 1) > 1e-4)
                {
                    AnsiConsole.MarkupLine($"[red]Check failed:[/] head {h}, query {q}: weights sum to {sum}.");
                    return ExitCodes.Failure;
                }
            }
        }

        return ExitCodes.Success;
    }
}
