using System.Runtime.InteropServices;

namespace Attention.Native.Perf.Peers.Torch;

/// <summary>
/// Asks libtorch's OpenMP threads to sleep, not spin, between parallel regions (<c>OMP_WAIT_POLICY=PASSIVE</c>). The
/// peers' runs are interleaved with the backend's: a thread left spinning after torch's run takes a core from the next
/// run of the backend (or of another peer), which on a 2-core machine more than doubled the backend's times.
/// </summary>
internal static partial class OpenMpWaitPolicy
{
    private const string Variable = "OMP_WAIT_POLICY";

    /// <summary>Sets the policy in the process's native environment, which libgomp reads once, when it is loaded: call
    /// before libtorch loads. A policy the user set is kept.</summary>
    /// <returns>The policy in force.</returns>
    public static string RequestPassive()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } chosen)
        {
            return chosen;
        }

        // Environment.SetEnvironmentVariable changes only .NET's copy of the environment on Unix; libgomp calls getenv.
        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && SetEnv(Variable, "PASSIVE", 1) == 0)
        {
            return "PASSIVE";
        }

        return "the library's default";
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
