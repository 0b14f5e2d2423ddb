namespace Attention.Native.Cuda.Interop;

/// <summary>Grid, block, dynamic shared memory and stream of one kernel launch (<c>cuLaunchKernel</c>'s arguments).</summary>
/// <param name="GridX">Blocks along x.</param>
/// <param name="GridY">Blocks along y.</param>
/// <param name="GridZ">Blocks along z.</param>
/// <param name="BlockX">Threads per block along x.</param>
/// <param name="BlockY">Threads per block along y.</param>
/// <param name="BlockZ">Threads per block along z.</param>
/// <param name="SharedMemoryBytes">Dynamic shared memory per block.</param>
/// <param name="Stream">The <c>CUstream</c>; 0 is the legacy default stream.</param>
internal readonly record struct LaunchConfiguration(
    uint GridX, uint GridY, uint GridZ, uint BlockX, uint BlockY, uint BlockZ, uint SharedMemoryBytes, nint Stream);
