// additive_attention_f32: Bahdanau (additive) attention after the projections (contract: Native/README.md).
//
//   s_ij = v · tanh(q'_i + k'_j)   (+ bias[b, i, j])    q' = W1·q and k' = W2·k come from cuBLAS beforehand
//   p_ij = softmax_j(s_ij) over the keys row i may see (key length, causal, mask), o_i = Σ_j p_ij · value_j
//
// One warp owns one query row (b, i) and walks the keys one at a time with the online softmax in fp32, like
// attention_simt: the warp splits the tanh sum over the hidden units and adds the lanes with xor shuffles (every lane
// ends with the same score, so the warp never diverges on it); each lane owns the output features c ≡ lane (mod 32)
// of the accumulator in shared memory. When probabilities are wanted, lane 0 writes each raw score into them and a
// second pass turns them into exp(s − m) / l, so no score is computed twice. A row that sees no key outputs 0 and
// probabilities 0, never NaN. expf/tanhf without fast math: the layer is held to 1e-5 against a float64 reference.
//
// Launch: grid (ceil(q_len / 4), batch), block (32, 4), dynamic shared memory 4 · (units + value_dim) · 4 bytes.
// The inputs are read with __ldg, through the read-only data cache: the kernel never writes them, and the compiler
// cannot prove that from pointers held in the parameter struct (a member carries no __restrict__).
//
// Native/emulation/additive_attention_emulation.cpp runs this file on the CPU against a float64 reference (./build.sh
// test does, where the CUDA toolkit is installed).

#include <math_constants.h>

#include "kernel_report.cuh"

namespace attention {

// The one parameter of additive_attention_f32 (Native/README.md). The launcher generator emits the C# struct
// Attention.Native.Cuda.Interop.AdditiveAttentionParams from it, field for field in C's layout.
struct AdditiveAttentionParams {
  const float* queries;          // [B, q_len, units]   W1·q
  const float* keys;             // [B, k_len, units]   W2·k
  const float* score_vector;     // [units]             v
  const float* values;           // [B, k_len, value_dim]
  float* output;                 // [B, q_len, value_dim]
  float* probs;                  // [B, q_len, k_len]; may be null
  const unsigned char* mask;     // [B|1, q_len, k_len], non-zero = attend; may be null
  const float* bias;             // [B|1, q_len, k_len], added to the scores; may be null
  const int* key_lengths;        // [B] valid key counts; may be null
  int batch, q_len, k_len, units, value_dim;
  long long mask_stride_b, bias_stride_b;  // 0 where broadcast over the batch
  int causal;                    // 0 none, 1 top-left, 2 bottom-right
};

}  // namespace attention

// Block (32, 4), as AdditiveAttentionLaunch launches it. The dynamic shared memory, 4 · (units + value_dim) floats,
// grows with the problem: the report states the most the launcher asks for, so its CTAs per SM are a floor.
constexpr int kAdditiveThreads = 32 * 4;

extern "C" __global__ void __launch_bounds__(kAdditiveThreads)
    additive_attention_f32(const __grid_constant__ attention::AdditiveAttentionParams params)
{
    KERNEL_REPORT_LAUNCH(kAdditiveThreads, kKernelReportMaxDynamicSharedBytes);
    extern __shared__ float shared[];
    const int lane = threadIdx.x;
    const int i = blockIdx.x * blockDim.y + threadIdx.y;
    const int b = blockIdx.y;
    if (i >= params.q_len || b >= params.batch) {
        return;  // the whole warp leaves together: nothing below synchronises the block
    }

    float* query_row = shared + threadIdx.y * (params.units + params.value_dim);
    float* acc = query_row + params.units;
    const long long row = (long long)b * params.q_len + i;
    for (int u = lane; u < params.units; u += 32) {
        query_row[u] = __ldg(&params.queries[row * params.units + u]);
    }
    for (int c = lane; c < params.value_dim; c += 32) {
        acc[c] = 0.0f;
    }

    int length = params.key_lengths ? min(max(__ldg(&params.key_lengths[b]), 0), params.k_len) : params.k_len;
    int hi = length;
    if (params.causal == 1) {
        hi = min(hi, i + 1);
    } else if (params.causal == 2) {
        hi = min(hi, i + length - params.q_len + 1);
    }
    const long long score_row = (long long)i * params.k_len;
    const unsigned char* mask_row = params.mask ? params.mask + b * params.mask_stride_b + score_row : nullptr;
    const float* bias_row = params.bias ? params.bias + b * params.bias_stride_b + score_row : nullptr;
    float* prob_row = params.probs ? params.probs + row * params.k_len : nullptr;

    float m = -CUDART_INF_F;
    float l = 0.0f;
    for (int j = 0; j < params.k_len; ++j) {
        float s = -CUDART_INF_F;
        if (j < hi && (mask_row == nullptr || __ldg(&mask_row[j]))) {
            const float* key = params.keys + ((long long)b * params.k_len + j) * params.units;
            float partial = 0.0f;
            for (int u = lane; u < params.units; u += 32) {
                partial = fmaf(__ldg(&params.score_vector[u]), tanhf(query_row[u] + __ldg(&key[u])), partial);
            }
            for (int offset = 16; offset > 0; offset >>= 1) {
                partial += __shfl_xor_sync(0xffffffffu, partial, offset);
            }
            s = partial + (bias_row ? __ldg(&bias_row[j]) : 0.0f);
        }
        if (prob_row && lane == 0) {
            prob_row[j] = s;
        }
        if (s == -CUDART_INF_F) {
            continue;  // warp-uniform
        }
        const float m_new = fmaxf(m, s);
        const float correction = expf(m - m_new);  // 0 on the first visible key (m = −∞)
        const float p = expf(s - m_new);
        l = fmaf(l, correction, p);
        const float* value = params.values + ((long long)b * params.k_len + j) * params.value_dim;
        for (int c = lane; c < params.value_dim; c += 32) {
            acc[c] = fmaf(p, __ldg(&value[c]), acc[c] * correction);
        }
        m = m_new;
    }

    const float inverse = l > 0.0f ? 1.0f / l : 0.0f;
    for (int c = lane; c < params.value_dim; c += 32) {
        params.output[row * params.value_dim + c] = acc[c] * inverse;
    }
    if (prob_row) {
        __syncwarp();  // lane 0's raw scores are visible to the whole warp
        for (int j = lane; j < params.k_len; j += 32) {
            const float s = prob_row[j];
            prob_row[j] = (l > 0.0f && s != -CUDART_INF_F) ? expf(s - m) * inverse : 0.0f;
        }
    }
}
