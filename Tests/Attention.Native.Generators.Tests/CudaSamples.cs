namespace Attention.Native.Generators.Tests;

/// <summary>
/// CUDA sources the tests feed the generator. They mirror the conventions of <c>Native/README.md</c> but are written
/// here, so these tests do not depend on the kernels that live in <c>Native/</c>.
/// </summary>
internal static class CudaSamples
{
    /// <summary>
    /// <c>attention_simt_{f32,f16,bf16}</c> with the parameter list of <c>Native/README.md</c> (q, k, v and o take
    /// the element type; everything else is shared), each calling a templated device body as a real file would.
    /// </summary>
    public static string AttentionSimt { get; } = """
        // Reference-grade fused attention: one warp per query row, online softmax in fp32.
        #include <cuda_fp16.h>
        #include <cuda_bf16.h>
        #include <math_constants.h>

        #define ATTENTION_SIMT_ARGS q, k, v, o, lse, probs, mask, bias, key_lengths, \
            batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim

        template <typename T>
        __device__ __forceinline__ float to_float(T x) { return static_cast<float>(x); }

        template <typename T>
        __device__ void attention_simt_body(const T* q, const T* k, const T* v, T* o, float* lse, float* probs,
                                            const unsigned char* mask, const float* bias, const int* key_lengths,
                                            int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim,
                                            int value_dim)
        {
            extern __shared__ float staging[];
            (void)staging;
        }

        """
        + AttentionSimtKernel("f32", "float")
        + AttentionSimtKernel("f16", "__half")
        + AttentionSimtKernel("bf16", "__nv_bfloat16");

    private static string AttentionSimtKernel(string suffix, string element) => $$"""
        extern "C" __global__ void attention_simt_{{suffix}}(
            const {{element}}* q, const {{element}}* k, const {{element}}* v, {{element}}* o,
            float* lse,                 // [B, Hq, Lq] natural-log sum of exps, -inf for fully masked rows; may be null
            float* probs,               // [B, Hq, Lq, Lk] probabilities (0 where masked); may be null
            const unsigned char* mask,  // boolean mask, true = attend; may be null
            const float* bias,          // additive bias; may be null
            const int* key_lengths,     // [B] valid key counts; may be null
            int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim, int value_dim,
            long long q_stride_b, long long q_stride_h, long long q_stride_s,
            long long k_stride_b, long long k_stride_h, long long k_stride_s,
            long long v_stride_b, long long v_stride_h, long long v_stride_s,
            long long o_stride_b, long long o_stride_h, long long o_stride_s,
            long long mask_stride_b, long long mask_stride_h,   // 0 where broadcast; row stride is k_len
            long long bias_stride_b, long long bias_stride_h,   // 0 where broadcast; row stride is k_len
            float scale, float softcap,                          // softcap 0 = off
            int causal,                                          // 0 none, 1 top-left, 2 bottom-right
            int window_left, int window_right)                   // -1 = unbounded
        {
            attention_simt_body<{{element}}>(ATTENTION_SIMT_ARGS);
        }

        """;

    /// <summary>
    /// Every tolerated oddity: declarations split over lines, comments between tokens, <c>__launch_bounds__</c> before
    /// and after <c>void</c>, <c>__restrict__</c>, <c>const</c> on either side, <c>extern "C" { }</c> blocks; and
    /// look-alikes that are not entry points (comments, strings, macros, templates, <c>__device__</c> functions).
    /// </summary>
    public const string OddFormatting = """
        #include "common.cuh"
        #define DECLARE_KERNEL(name) \
            extern "C" __global__ void name(float* x)
        /* extern "C" __global__ void commented_out(float* x); */
        // extern "C" __global__ void also_commented_out(float* x);

        namespace detail {
        template <typename T, int N = 4>
        __global__ void templated_kernel(T* data) { data[0] = T(N); }   // C++ linkage: no launcher
        }

        static const char* banner = "extern \"C\" __global__ void in_a_string(int x)";
        static const char* raw = R"cu(extern "C" __global__ void in_a_raw_string(int x))cu";

        extern "C" __device__ float helper(float x) { return x; }       // not __global__

        extern "C"
        __global__ void
        __launch_bounds__(128, 2)
        softmax_rows_f32 (
            const float * __restrict__ input,   /* [rows, cols] */
            float *__restrict__ output,
            // the row count
            int rows,
            unsigned   int /* columns */ cols,
            float const* const scale_ptr,
            long long
                row_stride)
        {
            if (rows > 0) { output[0] = input[0] * scale_ptr[0]; }
        }

        extern "C" __launch_bounds__(256) __global__ void copy_mask_bf16(const unsigned char* mask, bool* out,
            const __nv_bfloat16* __restrict__ x, unsigned long long n);

        extern "C" {
        __global__ void block_scale_f16(__half* x, double factor, const int* lengths) { }
        __device__ int block_helper(int x) { return x; }
        struct not_a_kernel { int x; };
        [[maybe_unused]] __global__ void block_fill_f32(float* out, float value) { }
        }
        """;

    /// <summary>Several kernels in one file, out of order, one declared before it is defined.</summary>
    public const string SeveralKernels = """
        extern "C" __global__ void zero_f32(float* out, long long count);

        extern "C" __global__ void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y,
                                                  int rows, int cols, float epsilon) { }

        extern "C" __global__ void add_bias_f16(__half* x, const __half* bias, int rows, int cols) { }

        extern "C" __global__ void zero_f32(float* out, long long count) { }
        """;

    /// <summary>A small complete dtype family: <c>x</c> and <c>y</c> take the element type, <c>stats</c> stays float.</summary>
    public const string ScaleFamily = """
        extern "C" __global__ void scale_f32(const float* x, float* y, float* stats, int n, float factor) { }
        extern "C" __global__ void scale_f16(const __half* x, __half* y, float* stats, int n, float factor) { }
        extern "C" __global__ void scale_bf16(const __nv_bfloat16* x, __nv_bfloat16* y, float* stats, int n, float factor) { }
        """;

    /// <summary>
    /// Two partial dtype families: <c>layer_norm</c> in f32 and f16 (no bf16 yet), where the statistics and the affine
    /// parameters stay float in both, and <c>scale</c> in f16 and bf16 (no f32), whose <c>__half*</c> lookup table is
    /// shared; the element pointers need not be leading, and <c>const</c> may differ between members.
    /// </summary>
    public const string PartialFamilies = """
        extern "C" __global__ void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y,
                                                  float* mean, int rows, int cols, float epsilon) { }
        extern "C" __global__ void layer_norm_f16(const __half* x, const float* gamma, const float* beta, __half* y,
                                                  float* mean, int rows, int cols, float epsilon) { }

        extern "C" __global__ void scale_f16(const __half* table, int n, __half* x, float factor, const float* bias) { }
        extern "C" __global__ void scale_bf16(const __half* table, int n, const __nv_bfloat16* x, float factor, const float* bias) { }
        """;

    /// <summary>
    /// <c>softmax_{f32,f16,bf16}</c> whose bf16 version takes its row count as <c>long long</c>: not a family, so no
    /// generic launcher (ATTN006), while each kernel keeps its own.
    /// </summary>
    public const string MismatchedFamily = """
        extern "C" __global__ void softmax_f32(const float* x, float* y, int rows, int cols) { }
        extern "C" __global__ void softmax_f16(const __half* x, __half* y, int rows, int cols) { }
        extern "C" __global__ void softmax_bf16(const __nv_bfloat16* x, __nv_bfloat16* y, long long rows, int cols) { }
        """;

    /// <summary>Kernels without parameters, written both ways.</summary>
    public const string NoParameters = """
        extern "C" __global__ void warm_up() { }
        extern "C" __global__ void sync_grid(void) { }
        """;

    /// <summary>Parameter names that are C# keywords or not snake_case.</summary>
    public const string ParameterNames = """
        extern "C" __global__ void rename_f32(const float* in, float* out, int ref, int HEAD_DIM, int dQ, int _x, int __y) { }
        """;
}
