using System.Globalization;
using System.Text;
using Attention.Native.Perf.Report;

namespace Attention.Native.Perf.Embedding;

/// <summary>embed-bench's results as Markdown (the throughput table, then the profile) and CSV.</summary>
internal static class EmbedReport
{
    /// <summary>The issue's goal: our throughput at least this many times ORT's for batches of at least
    /// <see cref="GoalMinBatch"/> sentences.</summary>
    public const double GoalRatio = 1.2;

    public const int GoalMinBatch = 8;

    public static string Markdown(IReadOnlyList<EmbedRow> rows, IEnumerable<string> notes)
    {
        var text = new StringBuilder();
        text.AppendLine("# all-MiniLM-L6-v2 sentence embeddings: Attention.Native beside ONNX Runtime (`embed-bench`)").AppendLine();
        foreach (string note in notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine().AppendLine(GoalLine(rows)).AppendLine();
        string[] headers = ["threads", "sentences × tokens", "padded L", "real tokens", "ours ms", "ORT ms", "ours sentences/s", "ORT sentences/s", "ours/ORT", "ours vs ORT"];
        Table(text, headers, rows.Select(r => new[]
        {
            Number(r.Threads), r.Case.Label, Number(r.PaddedLength), Number(r.RealTokens), Ms(r.Ours), Ms(r.Ort),
            Number(r.OursSentencesPerSecond, "F1"), Number(r.OrtSentencesPerSecond, "F1"), $"{Number(r.Ratio, "F2")}x",
            r.Match + (r.Passes ? string.Empty : " **FAIL**"),
        }));

        text.AppendLine().AppendLine("## Where our time goes").AppendLine();
        text.AppendLine("Shares of one call of ours (profiled after the timings; `attention` is the fused attention timed alone on the layer's " +
            "views and key lengths, × layers; `QKV+out proj` the rest of the attention layer; `other` copies into the padded layout and pooling). " +
            "The tokeniser is not in the calls timed above; its column is FastBertTokenizer's time for the batch's texts on one thread.").AppendLine();
        Table(text, ["threads", "sentences × tokens", "ours ms", .. EmbedProfile.Names.Select(n => $"{n} %"), "tokeniser ms"], rows.Select(r => new[]
        {
            Number(r.Threads), r.Case.Label, Ms(r.Ours),
        }.Concat(r.Profile.Shares.Select(s => Number(100 * s, "F1"))).Append(Number(1000 * r.TokenizeSeconds, "F3")).ToArray()));
        return text.ToString();
    }

    public static string Csv(IReadOnlyList<EmbedRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("threads,batch,tokens,padded_length,real_tokens,ours_ms,ort_ms,ours_sentences_per_s,ort_sentences_per_s,ours_over_ort,min_cosine,max_abs_diff,passes," +
            "profile_ms,projections_share,attention_share,ffn_share,gelu_share,layernorm_share,embeddings_share,other_share,tokenize_ms");
        foreach (var r in rows)
        {
            object[] fields =
            [
                r.Threads, r.Case.Batch, r.Case.Tokens is { } t ? t.ToString(CultureInfo.InvariantCulture) : "mixed", r.PaddedLength, r.RealTokens,
                r.Ours.TotalMilliseconds, r.Ort.TotalMilliseconds, r.OursSentencesPerSecond, r.OrtSentencesPerSecond, r.Ratio,
                r.Match.MinCosine, r.Match.MaxAbsDifference, r.Passes, 1000 * r.Profile.Total, .. r.Profile.Shares.Cast<object>(),
                1000 * r.TokenizeSeconds,
            ];
            text.AppendLine(string.Join(',', fields.Select(f => f is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(f, CultureInfo.InvariantCulture))));
        }

        return text.ToString();
    }

    /// <summary>Whether the goal holds on every row it covers, and the lowest ratio there.</summary>
    public static string GoalLine(IReadOnlyList<EmbedRow> rows)
    {
        var covered = rows.Where(r => r.Case.Batch >= GoalMinBatch).ToList();
        if (covered.Count == 0)
        {
            return $"Goal (≥ {GoalRatio}x ORT's throughput for batches of ≥ {GoalMinBatch}): no such row measured.";
        }

        int met = covered.Count(r => r.Ratio >= GoalRatio);
        var worst = covered.MinBy(r => r.Ratio)!;
        return $"Goal (≥ {Number(GoalRatio, "F1")}x ORT's throughput for batches of ≥ {GoalMinBatch}): met on {met} of {covered.Count} rows; " +
            $"lowest {Number(worst.Ratio, "F2")}x ({worst.Case.Label}, {worst.Threads} thread{(worst.Threads == 1 ? string.Empty : "s")}).";
    }

    private static void Table(StringBuilder text, IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        text.AppendLine($"| {string.Join(" | ", headers)} |");
        text.AppendLine($"|{string.Join('|', headers.Select((_, c) => c == 1 ? "---" : "---:"))}|");
        foreach (string[] cells in rows)
        {
            text.AppendLine($"| {string.Join(" | ", cells)} |");
        }
    }

    private static string Ms(TimeSpan time) => Number(time.TotalMilliseconds, time.TotalMilliseconds < 10 ? "F2" : "F1");

    private static string Number(double value, string format) => RowCells.Number(value, format);

    private static string Number(int value) => RowCells.Number(value, "D");
}
