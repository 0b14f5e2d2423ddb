using System.Globalization;
using System.Text;
using static TorchSharp.torch;

// PyTorch nn.MultiheadAttention forward and backward on generated weights and inputs; see the project file. libtorch's
// C++ module asserts key.sizes() == value.sizes(), so kdim = vdim in its cases (both ≠ E in one).
string path = args.Length > 0 ? args[0] : Path.Combine("Tests", "Attention.Native.Tests", "Layers", "Fixtures", "torch-mha-gradients.json");
var json = new StringBuilder("{\n  \"generator\": \"Tests/TorchGradientFixtures (TorchSharp-cpu, libtorch " + TorchSharp.torch.__version__ + ")\",\n  \"cases\": [\n");
Case[] cases =
[
    new("self-padding-causal", E: 8, H: 2, KeyDim: 8, ValueDim: 8, Bias: true, Batch: 2, Lq: 5, Lk: 5, Self: true, Padding: true, Causal: true),
    new("cross-kdim-vdim", E: 8, H: 2, KeyDim: 6, ValueDim: 6, Bias: true, Batch: 2, Lq: 3, Lk: 7, Self: false, Padding: true, Causal: false),
    new("cross-no-bias", E: 12, H: 3, KeyDim: 12, ValueDim: 12, Bias: false, Batch: 1, Lq: 4, Lk: 6, Self: false, Padding: false, Causal: false),
];
for (int c = 0; c < cases.Length; c++)
{
    json.Append(Run(cases[c], new Random(100 + c)));
    json.Append(c + 1 < cases.Length ? ",\n" : "\n");
}

json.Append("  ]\n}\n");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
File.WriteAllText(path, json.ToString());
Console.WriteLine($"Wrote {path}.");

static string Run(Case c, Random random)
{
    using var scope = NewDisposeScope();
    float[] Values(long n, double amplitude) => [.. Enumerable.Range(0, (int)n).Select(_ => (float)(amplitude * ((2 * random.NextDouble()) - 1)))];
    var mha = TorchSharp.torch.nn.MultiheadAttention(c.E, c.H, bias: c.Bias, kdim: c.KeyDim, vdim: c.ValueDim);
    var weights = new SortedDictionary<string, float[]>(StringComparer.Ordinal);
    using (no_grad())
    {
        foreach (var (name, parameter) in mha.named_parameters())
        {
            var values = Values(parameter.numel(), 1 / Math.Sqrt(parameter.shape[^1]));
            parameter.copy_(tensor(values, parameter.shape));
            weights[name] = values;
        }
    }

    var query = Values((long)c.Batch * c.Lq * c.E, 1);
    var key = c.Self ? query : Values((long)c.Batch * c.Lk * c.KeyDim, 1);
    var value = c.Self ? query : Values((long)c.Batch * c.Lk * c.ValueDim, 1);
    var outputGrad = Values((long)c.Batch * c.Lq * c.E, 1);
    var padding = c.Padding ? Enumerable.Range(0, c.Batch * c.Lk).Select(i => i % c.Lk == c.Lk - 1 - (i / c.Lk)).ToArray() : [];

    // Leaves in the layers' [B, L, features] order; nn.MultiheadAttention takes [L, B, features].
    var q = tensor(query, [c.Batch, c.Lq, c.E]).requires_grad_();
    var k = c.Self ? q : tensor(key, [c.Batch, c.Lk, c.KeyDim]).requires_grad_();
    var v = c.Self ? q : tensor(value, [c.Batch, c.Lk, c.ValueDim]).requires_grad_();
    // The causal mask as an additive float mask (−∞ above the diagonal): libtorch's C++ module adds attn_mask to the
    // scores whatever its type, so a bool mask there would add 1s instead of masking.
    var mask = c.Causal ? full([c.Lq, c.Lk], float.NegativeInfinity).triu(1) : null;
    var keyPadding = c.Padding ? tensor(padding, [c.Batch, c.Lk]) : null;
    var (output, _) = mha.forward(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), keyPadding, need_weights: false, attn_mask: mask);
    var batchFirst = output.transpose(0, 1).contiguous();
    (batchFirst * tensor(outputGrad, [c.Batch, c.Lq, c.E])).sum().backward();

    var grads = new SortedDictionary<string, float[]>(StringComparer.Ordinal);
    foreach (var (name, parameter) in mha.named_parameters())
    {
        grads[name] = parameter.grad!.contiguous().data<float>().ToArray();
    }

    grads["query"] = q.grad!.data<float>().ToArray();
    if (!c.Self)
    {
        grads["key"] = k.grad!.data<float>().ToArray();
        grads["value"] = v.grad!.data<float>().ToArray();
    }

    var s = new StringBuilder();
    s.Append(CultureInfo.InvariantCulture, $"    {{\n      \"name\": \"{c.Name}\", \"embedDim\": {c.E}, \"numHeads\": {c.H}, \"kdim\": {c.KeyDim}, \"vdim\": {c.ValueDim}, \"bias\": {(c.Bias ? "true" : "false")},\n");
    s.Append(CultureInfo.InvariantCulture, $"      \"batch\": {c.Batch}, \"queryLength\": {c.Lq}, \"keyLength\": {c.Lk}, \"self\": {(c.Self ? "true" : "false")}, \"causal\": {(c.Causal ? "true" : "false")},\n");
    s.Append("      \"keyPaddingMask\": [").Append(string.Join(", ", padding.Select(p => p ? "true" : "false"))).Append("],\n");
    Array(s, "query", query);
    Array(s, "key", c.Self ? [] : key);
    Array(s, "value", c.Self ? [] : value);
    Array(s, "outputGrad", outputGrad);
    Array(s, "output", batchFirst.data<float>().ToArray());
    s.Append("      \"weights\": {\n");
    Dictionary(s, weights);
    s.Append("      },\n      \"grads\": {\n");
    Dictionary(s, grads);
    s.Append("      }\n    }");
    return s.ToString();
}

static void Array(StringBuilder s, string name, float[] values) =>
    s.Append("      \"").Append(name).Append("\": [").Append(string.Join(", ", values.Select(Number))).Append("],\n");

static void Dictionary(StringBuilder s, SortedDictionary<string, float[]> entries)
{
    int i = 0;
    foreach (var (name, values) in entries)
    {
        s.Append("        \"").Append(name).Append("\": [").Append(string.Join(", ", values.Select(Number))).Append(']');
        s.Append(++i < entries.Count ? ",\n" : "\n");
    }
}

static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

internal sealed record Case(string Name, int E, int H, int KeyDim, int ValueDim, bool Bias, int Batch, int Lq, int Lk, bool Self, bool Padding, bool Causal);
