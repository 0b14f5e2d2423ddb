using Attention.Native;
using SeedSample;

// The seed's two examples on Attention.Native's layers (README "Layers"), then serving prompts with continuous
// batching over a paged key/value cache. Exit 1 when a check fails.
Console.OutputEncoding = System.Text.Encoding.UTF8;
using var backend = AttentionBackend.Create(args.Contains("--cpu") ? AttentionBackendKind.Cpu : AttentionBackendKind.Auto);
Console.WriteLine($"Backend: {backend.Description}");
var random = new Random(2024);
bool ok = SeedSelfAttention.Run(backend, random);
ok &= Translation.Run(backend, random);
ok &= ContinuousBatching.Run(backend, random);
return ok ? 0 : 1;
