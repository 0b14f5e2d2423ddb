using System.Globalization;
using Attention.Native;

namespace EmbeddingSample;

/// <summary>The sample's command line: <c>[--cpu | --cuda] [--half] [--threads N] [text …]</c>.</summary>
/// <param name="Backend">Cpu, Cuda, or Auto (CUDA where a device is usable).</param>
/// <param name="Half">Whether the encoder runs in Half.</param>
/// <param name="Threads">CPU threads of the CPU backend and of ONNX Runtime.</param>
/// <param name="Sentences">The texts.</param>
public sealed record EmbedArguments(AttentionBackendKind Backend, bool Half, int Threads, IReadOnlyList<string> Sentences)
{
    /// <summary>What the sample prints on bad arguments.</summary>
    public const string Usage =
        "usage: EmbeddingSample [--cpu | --cuda] [--half] [--threads N] [text ...]\n" +
        "  Embeds each text with all-MiniLM-L6-v2 on Attention.Native (CUDA where present unless --cpu) and on ONNX Runtime,\n" +
        "  and prints both with their cosine similarities. --half: Half weights and activations. --threads: CPU threads (default 2).";

    /// <summary>Sentences embedded when none are given: two pairs of paraphrases and an outlier.</summary>
    public static readonly IReadOnlyList<string> Examples =
    [
        "A man is playing a guitar.",
        "Someone plays an acoustic guitar on stage.",
        "The new movie is awesome.",
        "The film everyone talks about is great.",
        "Attention layers compute softmax(Q·Kᵀ/√d)·V.",
    ];

    /// <summary>Parses <paramref name="args"/>; null when they are not valid.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options, or null.</returns>
    public static EmbedArguments? Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var backend = AttentionBackendKind.Auto;
        bool half = false;
        int threads = 2;
        var sentences = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--cpu":
                    backend = AttentionBackendKind.Cpu;
                    break;
                case "--cuda":
                    backend = AttentionBackendKind.Cuda;
                    break;
                case "--half":
                    half = true;
                    break;
                case "--threads" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out threads) && threads >= 1:
                    i++;
                    break;
                case var flag when flag.StartsWith("--", StringComparison.Ordinal):
                    return null;
                case var text when !string.IsNullOrWhiteSpace(text):
                    sentences.Add(text);
                    break;
                default:
                    return null;
            }
        }

        return new EmbedArguments(backend, half, threads, sentences.Count > 0 ? sentences : Examples);
    }
}
