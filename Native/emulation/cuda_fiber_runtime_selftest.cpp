// Checks the emulation runtime itself (cuda_fiber_runtime.hpp) on tiny kernels with known answers: block and grid
// indices, static and dynamic shared memory across __syncthreads, every shuffle flavour, votes, partial last warps,
// and the overrun report. ./build.sh test runs it with the other emulations.

#include "emulation/cuda_fiber_runtime.hpp"

CUDA_EMULATION_DYNAMIC_SHARED(selftest, float, dynamic);

namespace selftest {

// Block-wide sum through static shared memory, then each warp's butterfly and down/up/indexed shuffles.
__global__ void kernel(const int* in, int* out, int* lanes) {
  __shared__ int partial[32];
  extern __shared__ float dynamic[];
  const int t = static_cast<int>(threadIdx.x + blockDim.x * threadIdx.y);
  const int n = static_cast<int>(blockDim.x * blockDim.y);
  const int block = static_cast<int>(blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z));
  dynamic[t] = static_cast<float>(in[block * n + t]);
  __syncthreads();
  if (t == 0) {
    float sum = 0;
    for (int i = 0; i < n; ++i) sum += dynamic[i];
    partial[0] = static_cast<int>(sum);
  }
  __syncthreads();
  const int total = partial[0];
  __syncthreads();  // partial[0] is rewritten by the next block's thread 0 only after every thread has read it
  int x = t;
  const int warp_size = n - (t / 32) * 32 < 32 ? n - (t / 32) * 32 : 32;
  const unsigned mask = warp_size == 32 ? 0xffffffffu : (1u << warp_size) - 1u;
  if (warp_size == 32) {
    for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(mask, x, o);
  }
  const int down = __shfl_down_sync(mask, t, 1);
  const int up = __shfl_up_sync(mask, t, 1);
  const int first = __shfl_sync(mask, t, 0);
  const unsigned ballot = __ballot_sync(mask, t % 2);
  out[block * n + t] = total;
  lanes[(block * n + t) * 5 + 0] = x;
  lanes[(block * n + t) * 5 + 1] = down;
  lanes[(block * n + t) * 5 + 2] = up;
  lanes[(block * n + t) * 5 + 3] = first;
  lanes[(block * n + t) * 5 + 4] = static_cast<int>(ballot);
}

__global__ void overrun() {
  extern __shared__ float dynamic[];
  dynamic[threadIdx.x + 8] = 1.0f;
}

}  // namespace selftest

int main() {
  int failures = 0;
  auto expect = [&](bool ok, const char* what, int at) {
    if (!ok && failures++ < 10) std::printf("runtime selftest: %s wrong at %d\n", what, at);
  };
  for (const dim3 block : {dim3(32, 4), dim3(40, 1), dim3(7, 3)}) {
    const dim3 grid(2, 3, 2);
    const int n = static_cast<int>(block.count()), blocks = static_cast<int>(grid.count());
    std::vector<int> in(n * blocks), out(n * blocks), lanes(n * blocks * 5);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i % 97);
    const auto result = emulation::launch(grid, block, n * sizeof(float), [&] {
      selftest::kernel(in.data(), out.data(), lanes.data());
    });
    expect(!result.shared_overrun, "overrun", 0);
    for (int b = 0; b < blocks; ++b) {
      int total = 0;
      for (int t = 0; t < n; ++t) total += in[b * n + t];
      for (int t = 0; t < n; ++t) {
        const int at = b * n + t, warp = t / 32, lane = t % 32, size = n - warp * 32 < 32 ? n - warp * 32 : 32;
        expect(out[at] == total, "block sum", at);
        if (size == 32) expect(lanes[at * 5] == warp * 32 * 32 + 31 * 16, "butterfly", at);
        expect(lanes[at * 5 + 1] == (lane + 1 < size ? t + 1 : t), "shfl_down", at);
        expect(lanes[at * 5 + 2] == (lane > 0 ? t - 1 : t), "shfl_up", at);
        expect(lanes[at * 5 + 3] == warp * 32, "shfl", at);
        unsigned ballot = 0;
        for (int l = 0; l < size; ++l) ballot |= static_cast<unsigned>((warp * 32 + l) % 2) << l;
        expect(static_cast<unsigned>(lanes[at * 5 + 4]) == ballot, "ballot", at);
      }
    }
  }
  const auto stray = emulation::launch(dim3(1), dim3(32), 16 * sizeof(float), [] { selftest::overrun(); });
  expect(stray.shared_overrun, "overrun report", 0);
  std::printf("fiber runtime selftest: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
