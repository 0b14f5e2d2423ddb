namespace EmbeddingSample.Tests;

/// <summary>
/// 56 sentences from one word to past the model's 256 tokens (cut there): plain prose, questions, numbers, accents,
/// other scripts, code, emoji and repeated punctuation, so that a batch of them pads most of its rows.
/// </summary>
internal static class TestSentences
{
    private const string Paragraph =
        "Attention lets every position of a sequence look at every other position and weigh what it finds there. " +
        "A query is compared with all the keys, the scores are scaled by the square root of the head size, turned into " +
        "probabilities by a softmax, and used to average the values. Several heads do this side by side on smaller " +
        "projections, and their outputs are concatenated and projected back to the model dimension.";

    public static readonly IReadOnlyList<string> All =
    [
        "Hi",
        "Yes.",
        "Good morning!",
        "A man is playing a guitar.",
        "Someone plays an acoustic guitar on stage.",
        "The new movie is awesome.",
        "The film everyone talks about is great.",
        "A cat sits on the mat.",
        "Dogs are loyal companions.",
        "How do I reset my password?",
        "What is the capital of France?",
        "Paris is the capital and most populous city of France.",
        "The quick brown fox jumps over the lazy dog.",
        "It was the best of times, it was the worst of times.",
        "To be, or not to be, that is the question.",
        "Café au lait, crème brûlée and a naïve résumé.",
        "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
        "¿Dónde está la estación de tren más cercana?",
        "東京は日本の首都です。",
        "Москва — столица России.",
        "I ❤️ emoji 🙂🚀!",
        "Call 555-0199 before 9:30 a.m. on 2024-03-14; it costs $12.50 (20% off).",
        "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
        "SELECT name FROM users WHERE age > 30 ORDER BY name;",
        "The GPU computes softmax(QKᵀ/√d)·V in tiles that fit in shared memory.",
        "Wait... what?!?! No way!!!",
        "e = mc^2",
        "The weather today is sunny with a light breeze from the west and temperatures around twenty degrees.",
        "Machine learning models learn patterns from data rather than following explicitly programmed rules.",
        "She sold seashells by the seashore, and the shells she sold were surely seashells.",
        "After the meeting, the team agreed to postpone the release until the remaining bugs were fixed and tested.",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "The stock market fell sharply on Monday amid fears of rising interest rates.",
        "Please remember to bring your passport, your boarding pass and a pen to fill in the customs form.",
        "A stitch in time saves nine.",
        "The library opens at nine and closes at five, except on Sundays when it is closed all day.",
        "Quantum computers use qubits, which can be in a superposition of states.",
        "He walked into the room, looked around, sighed, and sat down without saying a word to anyone.",
        "Rain.",
        "The children built a sandcastle with towers, a moat and a little flag made from a leaf and a twig.",
        "In 1969, Apollo 11 landed on the Moon and Neil Armstrong became the first person to walk on its surface.",
        "Breakfast: two eggs, toast, orange juice and coffee.",
        "Transformers replaced recurrent networks in most language tasks because they train in parallel over the whole sequence.",
        "The committee will review all applications received before the deadline and notify the candidates by email.",
        "Why is the sky blue? Because air scatters short wavelengths of sunlight more than long ones.",
        "Our train was delayed by forty minutes, so we missed the connection and had to wait for the next one.",
        "Knowledge is power.",
        "The recipe calls for flour, sugar, butter, eggs, a pinch of salt and a teaspoon of vanilla extract.",
        "Volcanoes form where magma from the mantle reaches the surface through cracks in the crust.",
        "The museum's new exhibition brings together paintings, sculptures and photographs from three centuries.",
        Paragraph,
        Paragraph + " " + Paragraph,
        string.Join(' ', Enumerable.Repeat("Words repeated many times make a long sentence for the encoder.", 12)),
        string.Join(", ", Enumerable.Range(1, 150)),
        "Tokens: " + string.Join(' ', Enumerable.Repeat("unbelievably", 40)),
        "OK",
    ];
}
