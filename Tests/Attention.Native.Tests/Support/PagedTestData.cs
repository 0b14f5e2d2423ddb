using Attention.Native.Reference;

namespace Attention.Native.Tests.Support;

/// <summary>
/// Contiguous K and V (<c>[B, Lk, Hkv, D]</c>) and the same rows scattered into pages
/// (<c>[numPages, PageSize, Hkv, D]</c>, or head-major <c>[numPages, Hkv, PageSize, D]</c>) through a block table: pages in a random order, spare pages between them,
/// table entries past a sequence's last page set to −1, and optionally sequence 1's first pages shared with sequence 0
/// (its keys and values there copied from sequence 0's, as a shared prompt prefix).
/// </summary>
public sealed class PagedTestData<T>
    where T : unmanaged
{
    private PagedTestData(T[] key, T[] value, T[] keyPages, T[] valuePages, PagedKeyValueLayout layout)
    {
        Key = key;
        Value = value;
        KeyPages = keyPages;
        ValuePages = valuePages;
        Layout = layout;
    }

    /// <summary>Contiguous K, <c>[B, Lk, Hkv, D]</c> (rows past a sequence's length hold data the pages do not).</summary>
    public T[] Key { get; }

    public T[] Value { get; }

    public T[] KeyPages { get; }

    public T[] ValuePages { get; }

    public PagedKeyValueLayout Layout { get; }

    /// <summary>The strides of <see cref="Key"/> for the reference.</summary>
    public static TensorStrides KeyStrides(AttentionShape shape) =>
        TensorStrides.Contiguous(AttentionLayout.Bshd, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);

    /// <summary>The strides of <see cref="Value"/> for the reference.</summary>
    public static TensorStrides ValueStrides(AttentionShape shape) =>
        TensorStrides.Contiguous(AttentionLayout.Bshd, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);

    /// <summary>
    /// Runs a paged call of <paramref name="backend"/> on pages from <see cref="Create"/> and a random query (from the
    /// seed of <paramref name="name"/> and <typeparamref name="T"/>; outputs poisoned) and holds its output and
    /// log-sum-exp to the float64 reference of the same rows laid out contiguously.
    /// </summary>
    public static void Check(
        AttentionBackend backend, string name, AttentionShape shape, int pageSize, int[] lengths, int sharedPages,
        Func<Random, AttentionOptions> build, bool headMajor, double tolerance, double lseTolerance)
    {
        int seed = TestRandom.SeedOf($"{name}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        var options = build(random);
        string context = $"case {name}, {typeof(T).Name}, {backend.Description}, {TestRandom.Describe(seed)}";
        var data = Create(random, shape, pageSize, lengths, sharedPages, headMajor);
        var query = TestData.Random<T>(random, shape.QueryElementCount, 1f);
        var output = TestData.Poison<T>(shape.OutputElementCount);
        var logSumExp = TestData.Poison<float>(shape.LogSumExpElementCount);
        backend.PagedScaledDotProductAttention<T>(shape, query, data.KeyPages, data.ValuePages, data.Layout, output, options, logSumExp);
        data.AssertMatchesReference(shape, query, options, output, logSumExp, tolerance, lseTolerance, context);
    }

    private void AssertMatchesReference(
        AttentionShape shape, T[] query, AttentionOptions options, T[] output, float[] logSumExp, double tolerance,
        double lseTolerance, string context)
    {
        var expected = ReferenceAttention.Compute<T>(shape, query, Key, Value, options with
        {
            KeyLengths = Layout.SequenceLengths,
            KeyStrides = KeyStrides(shape),
            ValueStrides = ValueStrides(shape),
        });
        double error = expected.RelativeError<T>(output, options.Layout);
        Assert.True(error <= tolerance, $"relative error {error:E3} > {tolerance:E1} ({context})");
        AttentionChecker.AssertLogSumExp(expected.LogSumExp, logSumExp, lseTolerance, context);
    }

    public static PagedTestData<T> Create(
        Random random, AttentionShape shape, int pageSize, int[] lengths, int sharedPages = 0, bool headMajor = false)
    {
        int batch = shape.Batch;
        long keyRow = (long)shape.KeyValueHeads * shape.HeadDim;
        long valueRow = (long)shape.KeyValueHeads * shape.ValueHeadDim;
        var key = TestData.Random<T>(random, batch * shape.KeyLength * keyRow, 1f);
        var value = TestData.Random<T>(random, batch * shape.KeyLength * valueRow, 1f);
        if (sharedPages > 0)
        {
            long rows = (long)sharedPages * pageSize;
            Array.Copy(key, 0, key, shape.KeyLength * keyRow, rows * keyRow);
            Array.Copy(value, 0, value, shape.KeyLength * valueRow, rows * valueRow);
        }

        int perSequence = (shape.KeyLength + pageSize - 1) / pageSize;
        var used = lengths.Select(l => (l + pageSize - 1) / pageSize).ToArray();
        int distinct = used.Sum() - (sharedPages > 0 ? sharedPages : 0);
        int pageCount = distinct + 3;
        var ids = Enumerable.Range(0, pageCount).OrderBy(_ => random.Next()).ToArray();
        var table = new int[batch * perSequence];
        Array.Fill(table, -1);
        int next = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < used[b]; i++)
            {
                table[(b * perSequence) + i] = b == 1 && i < sharedPages ? table[i] : ids[next++];
            }
        }

        var keyPages = TestData.Poison<T>(pageCount * pageSize * keyRow);
        var valuePages = TestData.Poison<T>(pageCount * pageSize * valueRow);
        int heads = shape.KeyValueHeads;
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < lengths[b]; j++)
            {
                long page = table[(b * perSequence) + (j / pageSize)];
                int slot = j % pageSize;
                for (int h = 0; h < heads; h++)
                {
                    long place = headMajor ? ((long)h * pageSize) + slot : ((long)slot * heads) + h;
                    Array.Copy(key, ((((long)b * shape.KeyLength) + j) * keyRow) + (h * shape.HeadDim),
                        keyPages, (page * pageSize * keyRow) + (place * shape.HeadDim), shape.HeadDim);
                    Array.Copy(value, ((((long)b * shape.KeyLength) + j) * valueRow) + (h * shape.ValueHeadDim),
                        valuePages, (page * pageSize * valueRow) + (place * shape.ValueHeadDim), shape.ValueHeadDim);
                }
            }
        }

        return new(key, value, keyPages, valuePages, new(pageSize, perSequence, table, lengths) { HeadMajor = headMajor });
    }
}
