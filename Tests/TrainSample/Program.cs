using System.Globalization;
using Attention.Native;
using Attention.Native.Perf.Charts;
using TrainSample;

// Trains a toy encoder–decoder (ToyCorpus: "I am a dog" → "我 是 一只 狗" and five more) with the layers' backward and
// Adam, prints a progress bar and the loss, writes the loss curve and the trained cross-attention's heat map, and
// translates the corpus greedily. Exit 1 when the loss does not fall below 10 % of its start.
// Options: --out <folder> (default artifacts/train), --steps <n> (default 200), --cpu.
Console.OutputEncoding = System.Text.Encoding.UTF8;
string folder = Option("--out") ?? Path.Combine("artifacts", "train");
int steps = int.Parse(Option("--steps") ?? "200", CultureInfo.InvariantCulture);
Directory.CreateDirectory(folder);

using var backend = AttentionBackend.Create(args.Contains("--cpu") ? AttentionBackendKind.Cpu : AttentionBackendKind.Auto);
Console.WriteLine($"Backend: {backend.Description}");
using var model = new TranslationModel(backend, new Random(15));
var sources = ToyCorpus.Pairs.SelectMany(p => ToyCorpus.SourceTokens(p.Source)).ToArray();
var targets = ToyCorpus.Pairs.SelectMany(p => ToyCorpus.TargetTokens(p.Target)).ToArray();
var optimizer = new Adam(model.ParameterList, learningRate: 0.005f);
var progress = new ProgressBar(steps);
var losses = new List<float>();
for (int step = 1; step <= steps; step++)
{
    var (loss, gradients) = model.Step(sources, targets);
    losses.Add(loss);
    optimizer.Step(gradients);
    model.LoadLayers();
    progress.Report(step, loss);
}

float first = losses[0], last = losses[^1];
Console.WriteLine($"Loss {first:F4} → {last:F4} ({100 * last / first:F2} % of the start) after {steps} steps.");
bool cjk = ChartFonts.CjkFile is not null;
string[] labels = cjk ? ToyCorpus.TargetVocabulary : ToyCorpus.TargetPinyin;
float[] heat = [];
string[] heatRows = [];
foreach (var (source, target) in ToyCorpus.Pairs)
{
    var (tokens, weights) = model.Translate(ToyCorpus.SourceTokens(source));
    string translation = string.Join(' ', tokens.Select(t => ToyCorpus.TargetVocabulary[t]));
    Console.WriteLine($"  {source,-14} → {translation}{(translation == target ? string.Empty : $"   (expected {target})")}");
    if (heat.Length == 0)
    {
        (heat, heatRows) = (weights, [.. tokens.Select(t => labels[t])]);
    }
}

try
{
    string curve = TrainingCharts.WriteLossCurve(losses, folder);
    string map = TrainingCharts.WriteHeatmap(heat, heatRows, ToyCorpus.Pairs[0].Source.Split(' '), folder);
    Console.WriteLine($"Wrote {curve} and {map}{(cjk ? string.Empty : " (labels in pinyin: no CJK font found)")}.");
}
catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
{
    Console.WriteLine($"Charts not written: {e.GetBaseException().Message}");
    return 1;
}

bool learned = last < 0.1f * first;
Console.WriteLine(learned ? "The loss fell below 10 % of its start." : "UNEXPECTED: the loss did not fall below 10 % of its start.");
return learned ? 0 : 1;

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
