namespace TrainSample;

/// <summary>
/// The seed's <c>I am a dog → 我 是 一只 狗</c> grown into a toy corpus: three subjects, two animals, the same verb and
/// article, so the decoder must read the source (through cross-attention) to pick the subject and the animal.
/// </summary>
internal static class ToyCorpus
{
    /// <summary>Source and target sentences have this many tokens.</summary>
    public const int Length = 4;

    public static readonly string[] SourceVocabulary = ["I", "you", "he", "am", "are", "is", "a", "dog", "cat"];

    /// <summary>The target vocabulary; index 0 is the decoder's start token.</summary>
    public static readonly string[] TargetVocabulary = ["<s>", "我", "你", "他", "是", "一只", "狗", "猫"];

    /// <summary>Pinyin for the chart labels where the machine has no CJK font.</summary>
    public static readonly string[] TargetPinyin = ["<s>", "wo", "ni", "ta", "shi", "yizhi", "gou", "mao"];

    public static readonly (string Source, string Target)[] Pairs =
    [
        ("I am a dog", "我 是 一只 狗"),
        ("I am a cat", "我 是 一只 猫"),
        ("you are a dog", "你 是 一只 狗"),
        ("you are a cat", "你 是 一只 猫"),
        ("he is a dog", "他 是 一只 狗"),
        ("he is a cat", "他 是 一只 猫"),
    ];

    public static int[] SourceTokens(string sentence) => Tokens(sentence, SourceVocabulary);

    public static int[] TargetTokens(string sentence) => Tokens(sentence, TargetVocabulary);

    private static int[] Tokens(string sentence, string[] vocabulary) =>
        [.. sentence.Split(' ').Select(word => Array.IndexOf(vocabulary, word) is int i and >= 0 ? i : throw new ArgumentException($"'{word}' is not in the vocabulary."))];
}
