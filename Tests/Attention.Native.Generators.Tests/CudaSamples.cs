namespace Attention.Native.Generators.Tests;

/// <summary>
/// CUDA sources the tests feed the generator. They follow the conventions of <c>Native/README.md</c> but are written
/// here, so these tests do not depend on the kernels that live in <c>Native/</c>.
/// </summary>
internal static class CudaSamples
{
    /// <summary>
    /// A header with the attention family's parameter struct, as <c>Native/attention_params.cuh</c> writes it: a
    /// template in the element type, several declarators a line, trailing comments, a namespace.
    /// </summary>
    public const string AttentionParamsHeader = """
        // The one parameter of the attention kernels.
        #pragma once
        #include <cuda_fp16.h>

        namespace attention {

        template <typename T>
        struct AttentionParams {
          const T* q;                  // [B, Hq, Lq, D]
          const T* k;
          const T* v;
          T* o;                        // [B, Hq, Lq, Dv]
          float* lse;                  // may be null
          const unsigned char* mask;   // true = attend; may be null
          const int* key_lengths;
          int batch, q_heads, q_len, k_len, head_dim;
          long long q_stride_b, q_stride_s;
          float scale;
          int causal;                  // 0 none, 1 top-left, 2 bottom-right
        };

        }  // namespace attention
        """;

    /// <summary>
    /// <c>attention_simt_{f32,f16,bf16}</c> from one entry macro (<c>##</c> pasting the dtype onto the name), each
    /// calling a templated device body, as <c>Native/attention_simt.cu</c> does; the struct is in
    /// <see cref="AttentionParamsHeader"/>.
    /// </summary>
    public const string AttentionSimt = """
        // Reference-grade fused attention: one warp per query row, online softmax in fp32.
        #include "attention_params.cuh"

        namespace attention {
        template <typename T>
        __device__ void attention_simt(const AttentionParams<T>& params) {
          extern __shared__ float staging[];
          (void)staging;
        }
        }  // namespace attention

        #define ATTENTION_SIMT_ENTRY(dtype, T)                                                                   \
          extern "C" __global__ void attention_simt_##dtype(const __grid_constant__ attention::AttentionParams<T> params) { \
            attention::attention_simt<T>(params);                                                                \
          }

        ATTENTION_SIMT_ENTRY(f32, float)
        ATTENTION_SIMT_ENTRY(f16, __half)
        ATTENTION_SIMT_ENTRY(bf16, __nv_bfloat16)

        #undef ATTENTION_SIMT_ENTRY
        """;

    /// <summary>
    /// Every tolerated oddity: declarations split over lines, comments between tokens, <c>__launch_bounds__</c> before
    /// and after <c>void</c>, the struct passed with and without <c>const __grid_constant__</c>, fully qualified or not,
    /// <c>extern "C" { }</c> blocks, <c>__restrict__</c> and <c>const</c> on either side in the struct; and look-alikes
    /// that are not entry points or params structs (comments, strings, unexpanded macros, templates,
    /// <c>__device__</c> functions, structs inside functions).
    /// </summary>
    public const string OddFormatting = """
        #include "common.cuh"
        #define DECLARE_KERNEL(name) \
            extern "C" __global__ void name(float* x)
        /* extern "C" __global__ void commented_out(RowParams p); */
        // extern "C" __global__ void also_commented_out(RowParams p);

        namespace rows { inline namespace v1 {
        struct RowParams {
            const float * __restrict__ input;   /* [rows, cols] */
            float *__restrict__ output;
            float const* const scale_ptr;
            int rows;
            unsigned   int /* columns */ cols;
            long long
                row_stride;                     // elements between rows
            double epsilon; unsigned long long seed;
        };
        } }

        namespace detail {
        template <typename T, int N = 4>
        __global__ void templated_kernel(T* data) { struct Local { int x; }; data[0] = T(N); }   // C++ linkage
        }

        static const char* banner = "extern \"C\" __global__ void in_a_string(int x)";
        static const char* raw = R"cu(extern "C" __global__ void in_a_raw_string(int x))cu";

        extern "C" __device__ float helper(float x) { return x; }       // not __global__

        extern "C"
        __global__ void
        __launch_bounds__(128, 2)
        softmax_rows_f32 (
            // the rows
            const __grid_constant__ rows::RowParams /* by value */ params)
        {
        }

        extern "C" __launch_bounds__(256) __global__ void copy_rows_f32(rows::v1::RowParams p);

        extern "C" {
        __global__ void block_rows_f32(RowParams params) { }
        __device__ int block_helper(int x) { return x; }
        struct not_a_kernel { int x; };
        [[maybe_unused]] __global__ void block_fill_f32(const RowParams params) { }
        }
        """;

    /// <summary>Several kernels in one file taking one plain struct, out of order, one declared before it is defined.</summary>
    public const string SeveralKernels = """
        struct NormParams {
          const float* x;
          const float* gamma;
          float* y;
          int rows, cols;
          float epsilon;
        };

        extern "C" __global__ void zero_f32(const __grid_constant__ NormParams params);

        extern "C" __global__ void layer_norm_f32(const __grid_constant__ NormParams params) { }

        extern "C" __global__ void rms_norm_f32(const __grid_constant__ NormParams params) { }

        extern "C" __global__ void zero_f32(const __grid_constant__ NormParams params) { }
        """;

    /// <summary>A small complete dtype family: <c>x</c> and <c>y</c> take the element type, <c>stats</c> stays float.</summary>
    public const string ScaleFamily = """
        template <typename T>
        struct ScaleParams {
          const T* x;
          T* y;
          float* stats;
          int n;
          float factor;
        };

        extern "C" __global__ void scale_f32(const __grid_constant__ ScaleParams<float> p) { }
        extern "C" __global__ void scale_f16(const __grid_constant__ ScaleParams<__half> p) { }
        extern "C" __global__ void scale_bf16(const __grid_constant__ ScaleParams<__nv_bfloat16> p) { }
        """;

    /// <summary>
    /// Two partial dtype families over one struct: <c>layer_norm</c> in f32 and f16 (no bf16 yet) and <c>scale</c> in
    /// f16 and bf16 (no f32); and a kernel of one element type that is in no family.
    /// </summary>
    public const string PartialFamilies = """
        template <typename T>
        struct RowParams {
          const T* x;
          T* y;
          const float* gamma;
          int rows, cols;
        };

        extern "C" __global__ void layer_norm_f32(const __grid_constant__ RowParams<float> p) { }
        extern "C" __global__ void layer_norm_f16(const __grid_constant__ RowParams<__half> p) { }

        extern "C" __global__ void scale_f16(const __grid_constant__ RowParams<__half> p) { }
        extern "C" __global__ void scale_bf16(const __grid_constant__ RowParams<__nv_bfloat16> p) { }

        extern "C" __global__ void clip_bf16(const __grid_constant__ RowParams<__nv_bfloat16> p) { }
        """;

    /// <summary>
    /// <c>softmax_{f32,f16,bf16}</c> whose bf16 version takes the f16 struct: not a family, so no generic lookup
    /// (ATTN006), while each kernel keeps its name and the struct its launch.
    /// </summary>
    public const string MismatchedFamily = """
        template <typename T>
        struct SoftmaxParams {
          const T* x;
          T* y;
          int rows, cols;
        };

        extern "C" __global__ void softmax_f32(const __grid_constant__ SoftmaxParams<float> p) { }
        extern "C" __global__ void softmax_f16(const __grid_constant__ SoftmaxParams<__half> p) { }
        extern "C" __global__ void softmax_bf16(const __grid_constant__ SoftmaxParams<__half> p) { }
        """;

    /// <summary>
    /// Fields of every size in an order that needs padding (C puts each at the next multiple of its size and rounds
    /// the whole up to the largest), and names that become PascalCase.
    /// </summary>
    public const string Layout = """
        struct LayoutParams {
          int a;                  // 0
          long long b;            // 8 (after 4 bytes of padding)
          float c;                // 16
          const bool* flags;      // 24 (after 4)
          unsigned int HEAD_DIM;  // 32
          double dQ;              // 40 (after 4)
          int _x, __y;            // 48, 52
          float tail;             // 56; the struct is 64 (rounded up to 8)
        };

        extern "C" __global__ void layout_probe(LayoutParams params) { }
        """;
}
