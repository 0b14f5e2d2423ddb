using EmbeddingSample.Model;
using Onnx;

namespace EmbeddingSample.Tests;

/// <summary>The graph reader finds all-MiniLM-L6-v2's structure in its model.onnx and refuses a graph that differs.</summary>
public sealed class OnnxBertReaderTests
{
    [Fact]
    public void The_package_model_is_a_six_layer_bert_of_384()
    {
        var c = MiniLm.Weights.Config;
        Assert.Equal(new BertConfig(30522, 512, 2, 384, 12, 32, 1536, 6, 1e-12f), c);
        var layer = MiniLm.Weights.Layers[5];
        Assert.Equal((384, 1536), (layer.Intermediate.In, layer.Intermediate.Out));
        Assert.Equal(1536 * 384, layer.Output.Weight.Length);
        Assert.All(MiniLm.Weights.Layers, l => Assert.Equal(384 * 384, l.Query.Weight.Length));
    }

    /// <summary>The MatMul weight <c>[in, out]</c> becomes PyTorch's <c>[out, in]</c>: y = x·W = x·(Wᵀ)ᵀ.</summary>
    [Fact]
    public void Projection_weights_are_transposed_to_pytorch_layout()
    {
        var model = Parse();
        var graph = model.Graph;
        string biasName = "encoder.layer.0.intermediate.dense.bias";
        var add = graph.Node.Single(n => n.OpType == "Add" && n.Input.Contains(biasName));
        var matMul = graph.Node.Single(n => n.OpType == "MatMul" && n.Output[0] == add.Input.Single(i => i != biasName));
        var raw = graph.Initializer.Single(t => t.Name == matMul.Input[1]);
        var onnx = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.RawData.Span);
        var ours = MiniLm.Weights.Layers[0].Intermediate.Weight;
        foreach (var (row, column) in new[] { (0, 0), (1, 0), (0, 1), (383, 1535), (17, 1001) })
        {
            Assert.Equal(onnx[(row * 1536) + column], ours[(column * 384) + row]);
        }
    }

    [Fact]
    public void A_missing_bias_is_named()
    {
        var model = Parse();
        model.Graph.Initializer.Remove(model.Graph.Initializer.Single(t => t.Name == "encoder.layer.3.attention.self.value.bias"));
        var e = Assert.Throws<InvalidDataException>(() => OnnxBertReader.Read(model));
        Assert.Contains("encoder.layer.3.attention.self.value.bias", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gelu_that_is_not_erf_is_refused()
    {
        var model = Parse();
        model.Graph.Node.Single(n => n.OpType == "Erf" && n.Name == "Erf_116").OpType = "Tanh";
        var e = Assert.Throws<InvalidDataException>(() => OnnxBertReader.Read(model));
        Assert.Contains("erf GELU", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_of_another_shape_is_refused()
    {
        var model = Parse();
        var norm = model.Graph.Initializer.Single(t => t.Name == "encoder.layer.1.output.LayerNorm.weight");
        norm.Dims[0] = 383;
        norm.RawData = Google.Protobuf.ByteString.CopyFrom(norm.RawData.Span[..(383 * 4)]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxBertReader.Read(model));
        Assert.Contains("encoder.layer.1.output.LayerNorm", e.Message, StringComparison.Ordinal);
    }

    private static ModelProto Parse() => ModelProto.Parser.ParseFrom(MiniLm.Model);
}
