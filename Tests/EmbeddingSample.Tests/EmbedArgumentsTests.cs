using Attention.Native;

namespace EmbeddingSample.Tests;

/// <summary>The sample's command line.</summary>
public sealed class EmbedArgumentsTests
{
    [Fact]
    public void Options_and_texts_are_read()
    {
        var parsed = EmbedArguments.Parse(["--cpu", "--half", "--threads", "3", "first text", "second"]);
        Assert.Equal(new EmbedArguments(AttentionBackendKind.Cpu, true, 3, parsed!.Sentences), parsed);
        Assert.Equal(["first text", "second"], parsed.Sentences);
    }

    [Fact]
    public void Without_texts_the_examples_are_embedded()
    {
        var parsed = EmbedArguments.Parse([]);
        Assert.Equal(AttentionBackendKind.Auto, parsed!.Backend);
        Assert.Same(EmbedArguments.Examples, parsed.Sentences);
    }

    [Theory]
    [InlineData("--threads")]
    [InlineData("--threads", "0")]
    [InlineData("--threads", "two")]
    [InlineData("--bogus")]
    [InlineData(" ")]
    public void Bad_arguments_give_null(params string[] args) => Assert.Null(EmbedArguments.Parse(args));
}
