using Attention.Native.Perf.Charts;
using Attention.Native.Perf.Embedding;
using Attention.Native.Perf.Report;
using EmbeddingSample;
using EmbeddingSample.Model;
using EmbeddingSample.Ort;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>embed-bench</c>: sentences per second of all-MiniLM-L6-v2 embeddings, the sample's encoder on the CPU backend
/// (Tests/EmbeddingSample) beside ONNX Runtime's CPU provider on the same model.onnx, at each thread count, on the same
/// batches in one process, their runs interleaved; each batch's embeddings checked against ORT's, and our time split
/// into its parts. Writes Markdown, CSV and two PNG charts. Exit code 1 when an embedding differs beyond the tolerance.
/// </summary>
internal sealed class EmbedBenchCommand : Command<EmbedBenchSettings>
{
    public override int Execute(CommandContext context, EmbedBenchSettings settings, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        void Note(string line)
        {
            notes.Add(line);
            AnsiConsole.WriteLine(line);
        }

        Note(MachineDescription.Text);
        Note(LoadAverage.Describe("before"));
        if (BuildCheck.Warning() is { } warning)
        {
            Note(warning);
        }

        var weights = OnnxBertReader.ReadPackage();
        byte[] model = OrtSentenceEncoder.PackageModel();
        var sentences = new SyntheticSentences();
        string ortVersion;
        using (var probe = new OrtSentenceEncoder(model, weights.Config.Hidden, 1))
        {
            ortVersion = probe.Version;
        }

        Note($"Model: all-MiniLM-L6-v2 ({weights.Config}), the model.onnx of {MiniLmPackage.Name}.");
        Note("Ours: Tests/EmbeddingSample's encoder on the CPU backend, float (MultiHeadAttention with key lengths, the layers' SGEMM, " +
            "host layer norms and GELU; padded rows skipped outside the attention layer).");
        Note($"ONNX Runtime {ortVersion}: CPU provider on the same file, intra_op_num_threads n, inter_op 1, ORT_ENABLE_ALL " +
            "(its fused Attention, SkipLayerNormalization and Gelu), allow_spinning 0; mean pooling and normalisation in C# after it.");
        Note($"Sentences: random lower-case vocabulary words, one token each, between [CLS] and [SEP], seed {settings.Seed}; a call " +
            "embeds one batch from its token ids (tokenising is timed apart). Both engines get the same ids and the same right padding.");
        Note($"{(settings.Quick ? "Quick" : "Full")} repetitions: warm-ups, then timed rounds with one call of each engine, the first " +
            "of the two alternating; ms is the median call.");

        int threadCount = settings.ThreadCounts.Count, caseCount = settings.Cases.Count;
        var rows = ProgressDisplay.Run("embed-bench", threadCount * caseCount, step =>
            settings.ThreadCounts.SelectMany(t => EmbedRunner.Run(weights, model, sentences, settings.Cases, t, settings.Quick, settings.Seed, step)).ToList());
        Note(LoadAverage.Describe("after"));

        var table = new Table().AddColumns("threads", "sentences × tokens", "ours ms", "ORT ms", "ours sent/s", "ORT sent/s", "ours/ORT", "ours vs ORT");
        foreach (var r in rows)
        {
            table.AddRow(
                $"{r.Threads}", r.Case.Label, $"{r.Ours.TotalMilliseconds:F2}", $"{r.Ort.TotalMilliseconds:F2}", $"{r.OursSentencesPerSecond:F1}",
                $"{r.OrtSentencesPerSecond:F1}", $"{r.Ratio:F2}x", Markup.Escape(r.Match.ToString()) + (r.Passes ? string.Empty : " [red]FAIL[/]"));
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(EmbedReport.GoalLine(rows));
        string folder = settings.OutputFolder;
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "embed-bench.md"), EmbedReport.Markdown(rows, notes));
        File.WriteAllText(Path.Combine(folder, "embed-bench.csv"), EmbedReport.Csv(rows));
        ChartOutput.WriteAndList(folder, ["embed-bench.md", "embed-bench.csv"], () => EmbedCharts.Write(rows, folder, MachineDescription.Short));
        int failures = rows.Count(r => !r.Passes);
        if (failures > 0)
        {
            AnsiConsole.MarkupLine($"[red]{failures} batch(es) differ from ORT's embeddings beyond {Markup.Escape(EmbeddingComparison.FloatTolerance.AsTolerance())}.[/]");
            return ExitCodes.Failure;
        }

        AnsiConsole.WriteLine($"Every batch's embeddings within {EmbeddingComparison.FloatTolerance.AsTolerance()} of ORT's.");
        return ExitCodes.Success;
    }
}
