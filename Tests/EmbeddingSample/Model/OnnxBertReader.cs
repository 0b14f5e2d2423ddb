using System.Globalization;
using System.Runtime.InteropServices;
using Onnx;

namespace EmbeddingSample.Model;

/// <summary>
/// Reads a BERT encoder's weights out of a PyTorch-exported ONNX graph (all-MiniLM-L6-v2's <c>model.onnx</c>, parsed
/// by OnnxSharp's protobuf classes). The export names only the biases and norms; the projection weights are anonymous
/// initializers (<c>"927"</c>, …), transposed to <c>[in, out]</c> for <c>MatMul</c>. So each linear layer is found by
/// following the graph from its named bias (<c>Add(bias, MatMul(x, W))</c>), and the sizes and constants the encoder
/// relies on are checked against the graph itself: the heads of the key reshape, the score divisor, the layer norms'
/// epsilon and the exact (erf) GELU. Anything else throws <see cref="InvalidDataException"/> naming what differs.
/// </summary>
public static class OnnxBertReader
{
    /// <summary>Reads all-MiniLM-L6-v2 from <see cref="MiniLmPackage"/>.</summary>
    /// <returns>The weights.</returns>
    public static BertWeights ReadPackage()
    {
        using var stream = MiniLmPackage.OpenModel();
        return Read(ModelProto.Parser.ParseFrom(stream));
    }

    /// <summary>Reads a BERT encoder from an ONNX model.</summary>
    /// <param name="model">The parsed model.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="InvalidDataException">The graph is not the BERT encoder this sample runs (the message says where).</exception>
    public static BertWeights Read(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new Graph(model.Graph ?? throw new InvalidDataException("The model has no graph."));
        foreach (string input in (string[])["input_ids", "attention_mask", "token_type_ids"])
        {
            if (!model.Graph.Input.Any(i => i.Name == input))
            {
                throw new InvalidDataException($"The graph has no input {input}.");
            }
        }

        var words = graph.Matrix("embeddings.word_embeddings.weight");
        var positions = graph.Matrix("embeddings.position_embeddings.weight");
        var types = graph.Matrix("embeddings.token_type_embeddings.weight");
        int hidden = words.Columns;
        if (positions.Columns != hidden || types.Columns != hidden)
        {
            throw new InvalidDataException($"The embedding tables differ in width: words {hidden}, positions {positions.Columns}, token types {types.Columns}.");
        }

        var (embeddingNorm, epsilon) = graph.LayerNorm("embeddings.LayerNorm", hidden);
        var layers = new List<BertLayerWeights>();
        int heads = 0, headDim = 0, intermediate = 0;
        for (int i = 0; graph.HasInitializer($"encoder.layer.{i}.attention.self.query.bias"); i++)
        {
            string p = $"encoder.layer.{i}.";
            var key = graph.Linear(p + "attention.self.key", hidden, hidden);
            (int layerHeads, int layerHeadDim) = graph.Heads(p + "attention.self.key.bias", hidden);
            graph.RequireScoreDivisor(p + "attention.self.query.bias", layerHeadDim);
            var inner = graph.Linear(p + "intermediate.dense", hidden, null);
            graph.RequireErfGelu(p + "intermediate.dense.bias");
            var (attentionNorm, e1) = graph.LayerNorm(p + "attention.output.LayerNorm", hidden);
            var (outputNorm, e2) = graph.LayerNorm(p + "output.LayerNorm", hidden);
            if (i > 0 && (layerHeads != heads || inner.Out != intermediate))
            {
                throw new InvalidDataException($"Layer {i} has {layerHeads} heads and a feed-forward size {inner.Out}; layer 0 has {heads} and {intermediate}.");
            }

            if (e1 != epsilon || e2 != epsilon)
            {
                throw new InvalidDataException($"Layer {i}'s layer norms add {e1} and {e2} to the variance; the embeddings' adds {epsilon}.");
            }

            (heads, headDim, intermediate) = (layerHeads, layerHeadDim, inner.Out);
            layers.Add(new BertLayerWeights(
                graph.Linear(p + "attention.self.query", hidden, hidden), key, graph.Linear(p + "attention.self.value", hidden, hidden),
                graph.Linear(p + "attention.output.dense", hidden, hidden), attentionNorm, inner,
                graph.Linear(p + "output.dense", intermediate, hidden), outputNorm));
        }

        if (layers.Count == 0)
        {
            throw new InvalidDataException("The graph has no encoder.layer.0.attention.self.query.bias: no BERT layer found.");
        }

        var config = new BertConfig(words.Rows, positions.Rows, types.Rows, hidden, heads, headDim, intermediate, layers.Count, epsilon);
        return new BertWeights(config, words.Data, positions.Data, types.Data, embeddingNorm, layers);
    }

    private readonly record struct Matrix(float[] Data, int Rows, int Columns);

    /// <summary>The graph indexed by name: initializers, each value's producing node and its consumers.</summary>
    private sealed class Graph
    {
        private readonly Dictionary<string, TensorProto> initializers;
        private readonly Dictionary<string, NodeProto> producers = [];
        private readonly Dictionary<string, List<NodeProto>> consumers = [];

        public Graph(GraphProto graph)
        {
            initializers = graph.Initializer.ToDictionary(t => t.Name);
            foreach (var node in graph.Node)
            {
                foreach (string output in node.Output)
                {
                    producers[output] = node;
                }

                foreach (string input in node.Input)
                {
                    if (!consumers.TryGetValue(input, out var list))
                    {
                        consumers[input] = list = [];
                    }

                    list.Add(node);
                }
            }
        }

        public bool HasInitializer(string name) => initializers.ContainsKey(name);

        public Matrix Matrix(string name)
        {
            var tensor = Initializer(name);
            if (tensor.Dims.Count != 2)
            {
                throw new InvalidDataException($"{name} has shape [{string.Join(", ", tensor.Dims)}]; expected a matrix.");
            }

            return new(Floats(tensor, name), checked((int)tensor.Dims[0]), checked((int)tensor.Dims[1]));
        }

        /// <summary><c>Add(bias, MatMul(x, W))</c> from the bias <c>{prefix}.bias</c>; W (<c>[in, out]</c>) transposed to PyTorch's <c>[out, in]</c>.</summary>
        public LinearWeights Linear(string prefix, int inFeatures, int? outFeatures)
        {
            string biasName = prefix + ".bias";
            float[] bias = Floats(Initializer(biasName), biasName);
            var add = Consumer(biasName, "Add");
            var matMul = Producer(add.Input.Single(i => i != biasName), "MatMul", $"the input added to {biasName}");
            string weightName = matMul.Input[1];
            var weight = Matrix(weightName);
            if (weight.Rows != inFeatures || weight.Columns != (outFeatures ?? weight.Columns) || bias.Length != weight.Columns)
            {
                throw new InvalidDataException(
                    $"{prefix}: MatMul weight {weightName} is [{weight.Rows}, {weight.Columns}] and its bias [{bias.Length}]; expected [{inFeatures}, {outFeatures?.ToString(CultureInfo.InvariantCulture) ?? "n"}] and [n].");
            }

            var transposed = new float[weight.Data.Length];
            for (int r = 0; r < weight.Rows; r++)
            {
                for (int c = 0; c < weight.Columns; c++)
                {
                    transposed[(c * weight.Rows) + r] = weight.Data[(r * weight.Columns) + c];
                }
            }

            return new LinearWeights(transposed, bias, weight.Rows, weight.Columns);
        }

        /// <summary>
        /// A layer norm exported as <c>Add(Mul(Div(x − mean, Sqrt(Add(var, ε))), γ), β)</c>: γ and β by name, ε from the
        /// constant beside the variance.
        /// </summary>
        public (LayerNormWeights Weights, float Epsilon) LayerNorm(string prefix, int hidden)
        {
            string scaleName = prefix + ".weight", shiftName = prefix + ".bias";
            float[] scale = Floats(Initializer(scaleName), scaleName), shift = Floats(Initializer(shiftName), shiftName);
            if (scale.Length != hidden || shift.Length != hidden)
            {
                throw new InvalidDataException($"{prefix} has {scale.Length} scales and {shift.Length} shifts; expected {hidden}.");
            }

            var mul = Consumer(scaleName, "Mul");
            var div = Producer(mul.Input.Single(i => i != scaleName), "Div", $"the input {prefix}'s scale multiplies");
            var sqrt = Producer(div.Input[1], "Sqrt", $"{prefix}'s divisor");
            var add = Producer(sqrt.Input[0], "Add", $"the variance under {prefix}'s square root");
            float epsilon = add.Input.Select(ConstantScalar).OfType<float>().SingleOrDefault(float.NaN);
            if (float.IsNaN(epsilon) || Consumer(shiftName, "Add").Input.All(i => i != mul.Output[0]))
            {
                throw new InvalidDataException($"{prefix} is not a layer norm with a constant epsilon and its shift added last.");
            }

            return (new LayerNormWeights(scale, shift), epsilon);
        }

        /// <summary>Heads and head size from the key projection's reshape to <c>[B, L, heads, headDim]</c>.</summary>
        public (int Heads, int HeadDim) Heads(string keyBias, int hidden)
        {
            var add = Consumer(keyBias, "Add");
            var reshape = Consumer(add.Output[0], "Reshape");
            var concat = Producer(reshape.Input[1], "Concat", $"the shape the key projection ({keyBias}) is reshaped to");
            var dims = concat.Input.TakeLast(2).Select(ConstantScalar).ToArray();
            if (dims is not [float heads, float headDim] || heads * headDim != hidden)
            {
                throw new InvalidDataException($"The key projection ({keyBias}) is not reshaped to [B, L, heads, headDim] with heads·headDim = {hidden}.");
            }

            return ((int)heads, (int)headDim);
        }

        /// <summary>The scores <c>Q·Kᵀ</c> are divided by √headDim before the mask and the softmax (the layer's default scale).</summary>
        public void RequireScoreDivisor(string queryBias, int headDim)
        {
            var add = Consumer(queryBias, "Add");
            var reshape = Consumer(add.Output[0], "Reshape");
            var transpose = Consumer(reshape.Output[0], "Transpose");
            var scores = Consumer(transpose.Output[0], "MatMul");
            var div = Consumer(scores.Output[0], "Div");
            if (ConstantScalar(div.Input[1]) is not { } divisor || Math.Abs(divisor - MathF.Sqrt(headDim)) > 1e-5f)
            {
                throw new InvalidDataException($"The scores of {queryBias}'s layer are not divided by √{headDim}.");
            }

            if (consumers[div.Output[0]] is not [{ OpType: "Add" } masked] || consumers[masked.Output[0]] is not [{ OpType: "Softmax" }])
            {
                throw new InvalidDataException($"The scaled scores of {queryBias}'s layer do not go through an additive mask to a softmax.");
            }
        }

        /// <summary>The intermediate projection is followed by the exact GELU, <c>x·½·(1 + erf(x/√2))</c>.</summary>
        public void RequireErfGelu(string intermediateBias)
        {
            var add = Consumer(intermediateBias, "Add");
            var div = Consumer(add.Output[0], "Div");
            if (ConstantScalar(div.Input[1]) is not { } divisor || Math.Abs(divisor - MathF.Sqrt(2)) > 1e-5f
                || consumers[div.Output[0]] is not [{ OpType: "Erf" }])
            {
                throw new InvalidDataException($"The projection with bias {intermediateBias} is not followed by the erf GELU.");
            }
        }

        private TensorProto Initializer(string name) =>
            initializers.TryGetValue(name, out var tensor) ? tensor : throw new InvalidDataException($"The graph has no initializer {name}.");

        private NodeProto Consumer(string value, string opType) =>
            consumers.GetValueOrDefault(value)?.FirstOrDefault(n => n.OpType == opType)
            ?? throw new InvalidDataException($"No {opType} node takes {value}.");

        private NodeProto Producer(string value, string opType, string what) =>
            producers.TryGetValue(value, out var node) && node.OpType == opType
                ? node
                : throw new InvalidDataException($"{what} ({value}) does not come from a {opType} node.");

        /// <summary>The value of a one-element constant (a Constant node's or an initializer's), as a float; null otherwise.</summary>
        private float? ConstantScalar(string value)
        {
            TensorProto? tensor = initializers.GetValueOrDefault(value);
            if (tensor is null && producers.TryGetValue(value, out var node) && node.OpType == "Constant")
            {
                tensor = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
            }

            if (tensor is null || tensor.Dims.Aggregate(1L, (a, d) => a * d) != 1)
            {
                return null;
            }

            return (TensorProto.Types.DataType)tensor.DataType switch
            {
                TensorProto.Types.DataType.Float => Floats(tensor, value)[0],
                TensorProto.Types.DataType.Int64 => tensor.RawData.Length == 8
                    ? MemoryMarshal.Read<long>(tensor.RawData.Span)
                    : tensor.Int64Data.Count == 1 ? tensor.Int64Data[0] : null,
                _ => null,
            };
        }

        private static float[] Floats(TensorProto tensor, string name)
        {
            if ((TensorProto.Types.DataType)tensor.DataType != TensorProto.Types.DataType.Float)
            {
                throw new InvalidDataException($"{name} holds {(TensorProto.Types.DataType)tensor.DataType}; expected Float.");
            }

            long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
            float[] data = tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
            return data.Length == count ? data : throw new InvalidDataException($"{name} holds {data.Length} floats; its shape [{string.Join(", ", tensor.Dims)}] has {count}.");
        }
    }
}
