using Google.Protobuf;
using Onnx;

namespace Attention.Native.Perf.Peers.Ort;

/// <summary>
/// A one-node ONNX model (<c>y = Op(q, k, v)</c>, fp32, fixed shapes), built with the ONNX protobuf classes that
/// OnnxSharp carries and serialised by Google.Protobuf, for an in-memory ONNX Runtime session.
/// </summary>
internal static class OrtAttentionModel
{
    /// <summary>ONNX IR version 11 (ONNX 1.18), which goes with opset 23.</summary>
    private const long IrVersion = 11;

    /// <summary>The ONNX opset imported: 23, the first with the <c>Attention</c> operator.</summary>
    private const long OnnxOpset = 23;

    /// <summary>ONNX Runtime's contrib operators (<c>com.microsoft</c>) are at version 1.</summary>
    private const string ContribDomain = "com.microsoft";

    /// <summary>ONNX <c>Attention</c> (opset 23) on 4-D <c>[B, H, L, D]</c> operands; fewer key/value heads than query
    /// heads is grouped-query attention.</summary>
    public static byte[] Attention(long[] query, long[] key, long[] value, long[] output, bool causal) =>
        Build("Attention", string.Empty, query, key, value, output, Int("is_causal", causal ? 1 : 0));

    /// <summary><c>com.microsoft.MultiHeadAttention</c> on 3-D <c>[B, L, H·D]</c> operands.</summary>
    public static byte[] MultiHeadAttention(long[] query, long[] key, long[] value, long[] output, int heads, bool causal) =>
        Build("MultiHeadAttention", ContribDomain, query, key, value, output, Int("num_heads", heads), Int("unidirectional", causal ? 1 : 0));

    private static byte[] Build(string op, string domain, long[] query, long[] key, long[] value, long[] output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = op, OpType = op, Domain = domain };
        node.Input.Add(["q", "k", "v"]);
        node.Output.Add("y");
        node.Attribute.Add(attributes);
        var graph = new GraphProto { Name = $"{op} peer" };
        graph.Node.Add(node);
        graph.Input.Add([Tensor("q", query), Tensor("k", key), Tensor("v", value)]);
        graph.Output.Add(Tensor("y", output));
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = "Attention.Native.Perf", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = OnnxOpset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = ContribDomain, Version = 1 });
        return model.ToByteArray();
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static ValueInfoProto Tensor(string name, long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        tensor.Shape.Dim.Add(shape.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
