using System.Text.Json;
using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="MultiHeadAttention{T}.Backward"/> against PyTorch's <c>nn.MultiheadAttention</c> backward: the fixture
/// (Layers/Fixtures/torch-mha-gradients.json, written by Tests/TorchGradientFixtures through TorchSharp-cpu) holds
/// weights and inputs generated there, the output and the gradients libtorch computed for the loss
/// <c>Σ output·outputGrad</c>. The layer loads the same weights, runs the same call and must give the same numbers.
/// </summary>
public sealed class TorchGradientFixtureTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Layers", "Fixtures", "torch-mha-gradients.json")));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    });

    public static TheoryData<string> Names() => ["self-padding-causal", "cross-kdim-vdim", "cross-no-bias"];

    [Theory]
    [MemberData(nameof(Names))]
    public void Gradients_equal_PyTorch_nn_MultiheadAttention(string name)
    {
        var c = Cases.Value.Single(e => e.GetProperty("name").GetString() == name);
        int e = c.GetProperty("embedDim").GetInt32(), batch = c.GetProperty("batch").GetInt32();
        bool self = c.GetProperty("self").GetBoolean(), bias = c.GetProperty("bias").GetBoolean();
        var options = new MultiHeadAttentionOptions(e, c.GetProperty("numHeads").GetInt32())
        {
            KeyInputDim = c.GetProperty("kdim").GetInt32(),
            ValueInputDim = c.GetProperty("vdim").GetInt32(),
            UseBias = bias,
        };
        var weights = c.GetProperty("weights");
        var grads = c.GetProperty("grads");
        var padding = c.GetProperty("keyPaddingMask").EnumerateArray().Select(b => b.GetBoolean()).ToArray();
        var masks = new LayerMasks
        {
            KeyPadding = padding.Length == 0 ? default : LayerMasks.FromPyTorchKeyPaddingMask(padding),
            Causal = c.GetProperty("causal").GetBoolean() ? CausalMask.TopLeft : CausalMask.None,
        };

        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, options);
        float[] inBias = bias ? Floats(weights, "in_proj_bias") : [], outBias = bias ? Floats(weights, "out_proj.bias") : [];
        if (weights.TryGetProperty("in_proj_weight", out var packed))
        {
            layer.LoadPyTorchWeights(Floats(packed), inBias, Floats(weights, "out_proj.weight"), outBias);
        }
        else
        {
            layer.LoadPyTorchWeights(
                Floats(weights, "q_proj_weight"), Floats(weights, "k_proj_weight"), Floats(weights, "v_proj_weight"), inBias,
                Floats(weights, "out_proj.weight"), outBias);
        }

        var query = Floats(c, "query");
        var output = TestData.Poison<float>(query.Length);
        var activations = self
            ? layer.ForwardForTraining(batch, query, output, masks)
            : layer.ForwardForTraining(batch, query, Floats(c, "key"), Floats(c, "value"), output, masks);
        var ours = layer.Backward(activations, Floats(c, "outputGrad"));

        Close(c, "output", output);
        Close(grads, "query", ours.QueryGrad);
        if (!self)
        {
            Close(grads, "key", ours.KeyGrad);
            Close(grads, "value", ours.ValueGrad);
        }

        if (grads.TryGetProperty("in_proj_weight", out _))
        {
            Close(grads, "in_proj_weight", ours.PyTorch.InProjWeight());
        }
        else
        {
            Close(grads, "q_proj_weight", ours.PyTorch.QProjWeight);
            Close(grads, "k_proj_weight", ours.PyTorch.KProjWeight);
            Close(grads, "v_proj_weight", ours.PyTorch.VProjWeight);
        }

        Close(grads, "out_proj.weight", ours.PyTorch.OutProjWeight);
        if (bias)
        {
            Close(grads, "in_proj_bias", ours.PyTorch.InProjBias);
            Close(grads, "out_proj.bias", ours.PyTorch.OutProjBias);
        }
        else
        {
            Assert.Empty(ours.PyTorch.InProjBias);
            Assert.Empty(ours.PyTorch.OutProjBias);
        }
    }

    private static void Close(JsonElement parent, string name, float[] actual) =>
        LayerFixture.AssertClose([.. Floats(parent, name).Select(v => (double)v)], actual, 2e-5, name);

    private static float[] Floats(JsonElement parent, string name) => Floats(parent.GetProperty(name));

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetSingle())];
}
