// The fused W4A4 + DABC linear (kernels.h, section 4): quantizeActivations and w4a4Linear.
// CPU reference with the same arithmetic: ref_w4a4.cpp (reference.h).
//
// Design of w4a4Linear (one kernel):
//   * Block tile BM x BN of y, the K loop in stages of BK int4 columns (BK / 2 bytes a row),
//     STAGES-deep cp.async pipeline of the packed bytes of a (BM rows) and w (BN rows) into
//     shared memory (rows padded by 16 bytes: ldmatrix reads them without bank conflicts;
//     rows beyond T or N and columns beyond K are zero-filled by cp.async's src-size 0).
//   * Warps: WARPS_M x WARPS_N tile the block; KSPLIT groups of them split each stage's k64
//     pairs between them (small T: more warps per output tile) and add up through shared
//     memory at the end (int32, exact).
//   * Integer tensor cores: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32. H100/H200 have no
//     fast int4 MMA, so nibbles become int8 in registers: a 32-bit word of 8 packed nibbles
//     gives (w << 4) & 0xF0F0F0F0 (the even nibbles) and w & 0xF0F0F0F0 (the odd ones), each
//     byte 16 x the signed nibble (two's complement, no sign extension needed). Both operands
//     carry the factor 16, so the MMA sums 256 x a.w exactly (|256 * 56 * K| < 2^31 for K up to
//     131072, checked) and an arithmetic shift by 8 gives the exact sum.
//   * Fragment layout (PTX ISA, "Matrix Fragments for mma.m16n8k32", section 9.7.14.5.10 /
//     anchor warp-level-matrix-fragment-mma-16832, .s8/.u8 rows), groupID g = lane >> 2,
//     threadID_in_group t = lane % 4:
//       A 16x32 row: a0 = row g,   k 4t..4t+3   a1 = row g+8, k 4t..4t+3
//                    a2 = row g,   k 16+4t..+3  a3 = row g+8, k 16+4t..+3
//       B 32x8  col: b0 = col g,   k 4t..4t+3   b1 = col g,   k 16+4t..+3
//       C 16x8  s32: c0, c1 = row g, cols 2t, 2t+1;  c2, c3 = row g+8, cols 2t, 2t+1
//     The k order inside one mma does not change the sum as long as A and B use the same one:
//     ldmatrix (below) gives lane (g, t) the bytes 4t..4t+3 of a 16-byte row (32 nibbles = one
//     k32 step), i.e. physical k 8t..8t+7 of that step; the even ones go to the "k 4t..4t+3"
//     slot (a0/a1, b0) and the odd ones to the "k 16+4t.." slot (a2/a3, b1), for A and B alike.
//   * ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8q..8q+7 give the row addresses of matrix
//     q; lane T receives in register q the 32 bits at row T/4, bytes 4(T%4)..+3 of matrix q.
//   * DABC: the same block tile runs a second loop over the Mk masked columns, 64 at a time,
//     on bf16 tensor cores mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (products of
//     two bf16 are exact in float32, accumulation in float32; PTX ISA "Matrix Fragments for
//     mma.m16n8k16 with floating point type": a0 = row g, k 2t..2t+1; a1 = row g+8, k 2t..;
//     a2 = row g, k 2t+8..; a3 = row g+8, k 2t+8..; b0 = col g, k 2t..2t+1; b1 = col g,
//     k 2t+8..; C as above). Only the float32 summation order differs from the reference.
//   * Epilogue: y = bf16(((float(acc) * s_t) * s_n + dabc) + bias), every operation rounded
//     on its own (mul.rn / add.rn in PTX: no FMA contraction, no flush to zero), bf16 round
//     half to even. The integer part is the accumulator the DABC MMAs start from (no second
//     set of accumulator registers), so it is one more summand of the float32 DABC sum: again
//     only the summation order differs from the reference.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cuda/kernels.h"

namespace mq::cuda {

namespace {

void checkLaunch(const char* what)
{
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

void checkCall(cudaError_t e, const char* what)
{
    if (e != cudaSuccess)
        throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

// ---- bf16 (the reference's toBf16 / fromBf16, bit for bit) ---------------------------------
__device__ __forceinline__ float bf16ToFloat(uint16_t b)
{
    return __uint_as_float(static_cast<uint32_t>(b) << 16);
}

__device__ __forceinline__ uint16_t floatToBf16(float x)
{
    uint32_t u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return static_cast<uint16_t>((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

// Single float32 operations, IEEE round to nearest even, never fused into an FMA and never
// flushing subnormals whatever the build's flags (--use_fast_math / -ftz would turn __fmul_rn
// and friends into their .ftz forms): the reference rounds each of them the same way.
__device__ __forceinline__ float mulRn(float a, float b)
{
    float r;
    asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float addRn(float a, float b)
{
    float r;
    asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float subRn(float a, float b)
{
    float r;
    asm("sub.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float divRn(float a, float b)
{
    float r;
    asm("div.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}

// clamp(rne(x / s), -7, 7): IEEE division, round half to even; fmaxf turns a NaN into -7 as the
// reference's std::fmax does.
__device__ __forceinline__ int quant4(float x, float s)
{
    const float q = rintf(divRn(x, s));
    return static_cast<int>(fminf(fmaxf(q, -7.0f), 7.0f));
}

// kernels.h's dabcStride (a host function) for the kernels.
__device__ __forceinline__ int dabcLd(int Mk)
{
    return (Mk + 63) / 64 * 64;
}
static_assert(dabcStride(1) == 64 && dabcStride(64) == 64 && dabcStride(65) == 128, "dabcLd is dabcStride");

// ---- quantizeActivations: one block per token row -------------------------------------------
constexpr int kQuantThreads = 256;

__global__ void __launch_bounds__(kQuantThreads)
quantizeKernel(const uint16_t* __restrict__ x, int64_t K, const float* __restrict__ channelScale,
               const int32_t* __restrict__ maskedIndex, int Mk, float rho, uint8_t* __restrict__ aPacked,
               float* __restrict__ tokenScale, uint16_t* __restrict__ residual)
{
    __shared__ float warpMax[kQuantThreads / 32];
    const int64_t t = blockIdx.x;
    const uint16_t* row = x + t * K;
    const int64_t half = K / 2;
    const uint32_t* row2 = reinterpret_cast<const uint32_t*>(row); // two bf16 per word (K even, 4-byte aligned)

    float s = 1.0f;
    if (channelScale == nullptr) {
        float amax = 0.0f;
        for (int64_t j = threadIdx.x; j < half; j += blockDim.x) {
            const uint32_t v = row2[j];
            amax = fmaxf(amax, fabsf(bf16ToFloat(static_cast<uint16_t>(v & 0xFFFFu))));
            amax = fmaxf(amax, fabsf(bf16ToFloat(static_cast<uint16_t>(v >> 16))));
        }
        for (int o = 16; o > 0; o >>= 1)
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
        if ((threadIdx.x & 31) == 0)
            warpMax[threadIdx.x >> 5] = amax;
        __syncthreads();
        amax = warpMax[0];
        for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w)
            amax = fmaxf(amax, warpMax[w]);
        s = fmaxf(divRn(amax, 7.0f), 1e-12f);
    }
    if (threadIdx.x == 0)
        tokenScale[t] = s;

    uint8_t* out = aPacked + t * half;
    for (int64_t j = threadIdx.x; j < half; j += blockDim.x) {
        const uint32_t v = row2[j];
        const float s0 = channelScale ? channelScale[2 * j] : s;
        const float s1 = channelScale ? channelScale[2 * j + 1] : s;
        const int q0 = quant4(bf16ToFloat(static_cast<uint16_t>(v & 0xFFFFu)), s0);
        const int q1 = quant4(bf16ToFloat(static_cast<uint16_t>(v >> 16)), s1);
        out[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
    }

    const int ld = dabcLd(Mk);
    for (int m = threadIdx.x; m < ld; m += blockDim.x) {
        if (m >= Mk) {
            residual[t * ld + m] = 0; // the padding the product's 128-byte rows read
            continue;
        }
        const int32_t c = maskedIndex[m];
        const float xv = bf16ToFloat(row[c]);
        const float su = channelScale ? channelScale[c] : s;
        const float xhat = mulRn(static_cast<float>(quant4(xv, su)), su);
        const bool keep = rho <= 0.0f || fabsf(xv) > mulRn(rho, mulRn(7.0f, su));
        residual[t * ld + m] = floatToBf16(keep ? subRn(xv, xhat) : 0.0f);
    }
}

// ---- PTX wrappers -------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smemAddr(const void* p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared; srcBytes 0 fills the 16 bytes with zeros (nothing is read).
__device__ __forceinline__ void cpAsync16(uint32_t dst, const void* src, int srcBytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(srcBytes)
                 : "memory");
}
__device__ __forceinline__ void cpAsyncCommit()
{
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void cpAsyncWait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrixX4(uint32_t addr, uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr)
                 : "memory");
}

__device__ __forceinline__ void mmaS8(int32_t (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mmaBf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 8 packed nibbles -> the even ones and the odd ones, each byte 16 x the signed nibble.
__device__ __forceinline__ uint32_t evenNibbles16(uint32_t w) { return (w << 4) & 0xF0F0F0F0u; }
__device__ __forceinline__ uint32_t oddNibbles16(uint32_t w) { return w & 0xF0F0F0F0u; }

// The row and byte a lane addresses for ldmatrix.x4 of a 16-row x 32-byte A block: matrix
// q = lane / 8 is (rows (q & 1) * 8 .. +7, bytes (q >> 1) * 16 .. +15), so the registers are
// r0 = rows 0-7 / bytes 0-15, r1 = rows 8-15 / bytes 0-15, r2 = rows 0-7 / bytes 16-31,
// r3 = rows 8-15 / bytes 16-31.
__device__ __forceinline__ int ldmARow(int lane) { return ((lane >> 3) & 1) * 8 + (lane & 7); }
__device__ __forceinline__ int ldmAByte(int lane) { return (lane >> 4) * 16; }
// For two 8-row B blocks (n-tiles j and j+1) x 32 bytes: matrix q is (rows (q >> 1) * 8 .. +7,
// bytes (q & 1) * 16 .. +15): r0 = tile j / bytes 0-15, r1 = tile j / bytes 16-31,
// r2 = tile j+1 / bytes 0-15, r3 = tile j+1 / bytes 16-31.
__device__ __forceinline__ int ldmBRow(int lane) { return (lane >> 4) * 8 + (lane & 7); }
__device__ __forceinline__ int ldmBByte(int lane) { return ((lane >> 3) & 1) * 16; }

// ---- w4a4Linear ---------------------------------------------------------------------------
constexpr int kDabcCols = 64;                        // masked columns per DABC chunk
constexpr int kDabcStride = kDabcCols * 2 + 16;      // bytes per smem row (144: conflict-free ldmatrix)

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_, int KSPLIT_, int BK_, int STAGES_>
struct Cfg {
    static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, KSPLIT = KSPLIT_;
    static constexpr int BK = BK_, STAGES = STAGES_;
    static constexpr int THREADS = WARPS_M * WARPS_N * KSPLIT * 32;
    static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;
    static constexpr int MT = WTM / 16, NT = WTN / 8;
    static constexpr int ROWB = BK / 2;                 // packed bytes of one row in a stage
    static constexpr int SROW = ROWB + 16;              // padded smem row
    static constexpr int STAGE_BYTES = (BM + BN) * SROW;
    static constexpr int PIPE_BYTES = STAGES * STAGE_BYTES;
    static constexpr int DABC_BYTES = (BM + BN) * kDabcStride; // one DABC chunk (two slots)
    static constexpr int RED_BYTES = (KSPLIT - 1) * BM * BN * 4;
    // The DABC slots sit past the pipeline and the k-group reduction: the first chunk is
    // fetched at the start, beside the first stages, and lands while the integer loop runs.
    static constexpr int DABC_OFF = ((PIPE_BYTES > RED_BYTES ? PIPE_BYTES : RED_BYTES) + 127) / 128 * 128;
    static constexpr int SMEM = DABC_OFF + 2 * DABC_BYTES;
    static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile: 16-row m-tiles, pairs of 8-column n-tiles");
    static_assert(BK % 64 == 0 && (BK / 64) % KSPLIT == 0, "stage: whole k64 pairs per k-group");
    static_assert((kDabcCols / 16) % KSPLIT == 0, "DABC chunk: whole k16 steps per k-group");
    static_assert(SROW % 16 == 0, "16-byte aligned smem rows");
};

// Small T (decode): 16 x 32 tiles, 2 warps across N x 4 k-groups.
using CfgSmall = Cfg<16, 32, 1, 2, 4, 256, 6>;
// Middle: 64 x 64 tiles, 2 x 2 warps x 2 k-groups.
using CfgMid = Cfg<64, 64, 2, 2, 2, 128, 4>;
// Larger T (bench_cuda --tile compares them; the H200 figures are in bench/README.md):
// 128 x 128 tiles of 2 x 4 warps (warp tile 64 x 32); warp tiles of 64 x 64 (twice the MMAs
// per unpacked fragment) in 128 x 256 or 256 x 128 tiles; 16 warps of 32 x 32 (more warps per
// scheduler) in 128 x 128 tiles, or of 32 x 64 in 128 x 256 tiles; and 128 x 256 tiles in two
// stages of 256 columns (half the barriers: the fastest from T = 2048, Auto's choice).
using CfgLarge = Cfg<128, 128, 2, 4, 1, 128, 4>;
using CfgWide = Cfg<128, 256, 2, 4, 1, 128, 3>;
using CfgTall = Cfg<256, 128, 4, 2, 1, 128, 3>;
using CfgLarge16 = Cfg<128, 128, 4, 4, 1, 128, 4>;
using CfgWide16 = Cfg<128, 256, 4, 4, 1, 128, 3>;
using CfgWideK = Cfg<128, 256, 2, 4, 1, 256, 2>; // stages of 256 columns: half the barriers

template <class C>
__global__ void __launch_bounds__(C::THREADS)
w4a4Kernel(const uint8_t* __restrict__ aPacked, const float* __restrict__ tokenScale,
           const uint8_t* __restrict__ wPacked, const float* __restrict__ weightScale,
           const uint16_t* __restrict__ residual, const uint16_t* __restrict__ wMasked, int Mk,
           const uint16_t* __restrict__ bias, int64_t T, int64_t N, int64_t K, uint16_t* __restrict__ y,
           int32_t* __restrict__ accOut)
{
    extern __shared__ __align__(128) uint8_t smem[];
    constexpr int MT = C::MT, NT = C::NT;

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int kg = warp / (C::WARPS_M * C::WARPS_N);       // k-group
    const int wmn = warp % (C::WARPS_M * C::WARPS_N);
    const int wm = wmn / C::WARPS_N;
    const int wn = wmn % C::WARPS_N;
    const int g = lane >> 2;
    const int tq = lane & 3;

    const int64_t bm0 = static_cast<int64_t>(blockIdx.y) * C::BM;
    const int64_t bn0 = static_cast<int64_t>(blockIdx.x) * C::BN;
    const int64_t rowBytes = K / 2;
    const int KT = static_cast<int>((K + C::BK - 1) / C::BK);
    const uint32_t smemBase = smemAddr(smem);

    // One stage: BM rows of a, then BN rows of w, 16-byte chunks, zero-filled outside.
    auto loadStage = [&](int slot, int kt) {
        constexpr int CPR = C::ROWB / 16;
        constexpr int TOTAL = (C::BM + C::BN) * CPR;
        const uint32_t stage = smemBase + slot * C::STAGE_BYTES;
        const int64_t kb0 = static_cast<int64_t>(kt) * C::ROWB;
#pragma unroll
        for (int c = tid; c < TOTAL; c += C::THREADS) {
            const int r = c / CPR;
            const int ch = c % CPR;
            const int64_t kb = kb0 + ch * 16;
            const uint8_t* src;
            bool ok;
            if (r < C::BM) {
                const int64_t gr = bm0 + r;
                ok = gr < T && kb < rowBytes;
                src = ok ? aPacked + gr * rowBytes + kb : aPacked;
            } else {
                const int64_t gr = bn0 + (r - C::BM);
                ok = gr < N && kb < rowBytes;
                src = ok ? wPacked + gr * rowBytes + kb : wPacked;
            }
            cpAsync16(stage + r * C::SROW + ch * 16, src, ok ? 16 : 0);
        }
    };

    // One DABC chunk: kDabcCols masked columns (128 bytes) of BM rows of r and BN rows of wm,
    // rows of ld = dabcStride(Mk) elements, zero-filled past T and N.
    const int64_t ld = dabcLd(Mk);
    auto loadDabc = [&](int slot, int m0) {
        constexpr int CPR = kDabcCols * 2 / 16;
        const uint32_t base = smemBase + C::DABC_OFF + slot * C::DABC_BYTES;
#pragma unroll
        for (int c = tid; c < (C::BM + C::BN) * CPR; c += C::THREADS) {
            const int r = c / CPR;
            const int ch = c % CPR;
            const uint16_t* src;
            bool ok;
            if (r < C::BM) {
                const int64_t gr = bm0 + r;
                ok = gr < T;
                src = ok ? residual + gr * ld + m0 + ch * 8 : residual;
            } else {
                const int64_t gr = bn0 + (r - C::BM);
                ok = gr < N;
                src = ok ? wMasked + gr * ld + m0 + ch * 8 : wMasked;
            }
            cpAsync16(base + r * kDabcStride + ch * 16, src, ok ? 16 : 0);
        }
    };
    if (Mk > 0) { // its own (oldest) group: complete whenever a later group is waited for
        loadDabc(0, 0);
        cpAsyncCommit();
    }

    int32_t acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int c = 0; c < 4; ++c)
                acc[i][j][c] = 0;

#pragma unroll
    for (int s = 0; s < C::STAGES - 1; ++s) {
        if (s < KT)
            loadStage(s, s);
        cpAsyncCommit();
    }

    // Lane-constant parts of the ldmatrix addresses.
    const int aRow = wm * C::WTM + ldmARow(lane);
    const int aByte = ldmAByte(lane);
    const int bRow = C::BM + wn * C::WTN + ldmBRow(lane);
    const int bByte = ldmBByte(lane);

    for (int kt = 0; kt < KT; ++kt) {
        cpAsyncWait<C::STAGES - 2>();
        __syncthreads(); // stage kt landed for every thread; slot (kt - 1) % STAGES is free
        {
            const int nk = kt + C::STAGES - 1;
            if (nk < KT)
                loadStage(nk % C::STAGES, nk);
            cpAsyncCommit();
        }
        const uint32_t stage = smemBase + (kt % C::STAGES) * C::STAGE_BYTES;
#pragma unroll
        for (int p = kg; p < C::BK / 64; p += C::KSPLIT) { // k64 pair: bytes 32p .. 32p + 31 of each row
            uint32_t af[MT][2][4];                           // [m-tile][k32 step][reg]
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                uint32_t r0, r1, r2, r3;
                ldmatrixX4(stage + (aRow + i * 16) * C::SROW + p * 32 + aByte, r0, r1, r2, r3);
                af[i][0][0] = evenNibbles16(r0); // row g,   step 0
                af[i][0][1] = evenNibbles16(r1); // row g+8, step 0
                af[i][0][2] = oddNibbles16(r0);
                af[i][0][3] = oddNibbles16(r1);
                af[i][1][0] = evenNibbles16(r2); // row g,   step 1
                af[i][1][1] = evenNibbles16(r3); // row g+8, step 1
                af[i][1][2] = oddNibbles16(r2);
                af[i][1][3] = oddNibbles16(r3);
            }
#pragma unroll
            for (int j = 0; j < NT; j += 2) {
                uint32_t r0, r1, r2, r3;
                ldmatrixX4(stage + (bRow + j * 8) * C::SROW + p * 32 + bByte, r0, r1, r2, r3);
                // r0: tile j step 0, r1: tile j step 1, r2: tile j+1 step 0, r3: tile j+1 step 1
                // Step 0 of every m-tile before step 1: an MMA never waits on the one just issued.
#pragma unroll
                for (int i = 0; i < MT; ++i) {
                    mmaS8(acc[i][j], af[i][0], evenNibbles16(r0), oddNibbles16(r0));
                    mmaS8(acc[i][j + 1], af[i][0], evenNibbles16(r2), oddNibbles16(r2));
                }
#pragma unroll
                for (int i = 0; i < MT; ++i) {
                    mmaS8(acc[i][j], af[i][1], evenNibbles16(r1), oddNibbles16(r1));
                    mmaS8(acc[i][j + 1], af[i][1], evenNibbles16(r3), oddNibbles16(r3));
                }
            }
        }
    }
    cpAsyncWait<0>();
    __syncthreads(); // the pipeline's smem is free from here on

    // Exact int32 sums: the MMA summed 256 * a.w.
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int c = 0; c < 4; ++c)
                acc[i][j][c] >>= 8;

    constexpr int NREG = MT * NT * 4;
    if constexpr (C::KSPLIT > 1) {
        int32_t* red = reinterpret_cast<int32_t*>(smem);
        if (kg > 0) {
            int32_t* dst = red + ((kg - 1) * (C::WARPS_M * C::WARPS_N) + wmn) * NREG * 32;
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int j = 0; j < NT; ++j)
#pragma unroll
                    for (int c = 0; c < 4; ++c)
                        dst[((i * NT + j) * 4 + c) * 32 + lane] = acc[i][j][c];
        }
        __syncthreads();
        if (kg == 0) {
#pragma unroll
            for (int q = 1; q < C::KSPLIT; ++q) {
                const int32_t* src = red + ((q - 1) * (C::WARPS_M * C::WARPS_N) + wmn) * NREG * 32;
#pragma unroll
                for (int i = 0; i < MT; ++i)
#pragma unroll
                    for (int j = 0; j < NT; ++j)
#pragma unroll
                        for (int c = 0; c < 4; ++c)
                            acc[i][j][c] += src[((i * NT + j) * 4 + c) * 32 + lane];
            }
        }
        __syncthreads();
    }

    // Output coordinates of fragment element (i, j, c): row g (+8 for c >= 2), column 2t + (c & 1).
    const int64_t rowBase = bm0 + wm * C::WTM + g;
    const int64_t colBase = bn0 + wn * C::WTN + 2 * tq;

    // The integer part in float, (float(acc) * s_t) * s_n, is the first summand of the float32
    // sum that the DABC products are added to (k-group 0's; the other k-groups' start at 0);
    // and the optional acc output.
    float dacc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int c = 0; c < 4; ++c)
                dacc[i][j][c] = 0.0f;
    if (kg == 0) {
#pragma unroll
        for (int i = 0; i < MT; ++i) {
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int64_t r = rowBase + i * 16 + h * 8;
                const float st = r < T ? tokenScale[r] : 0.0f;
#pragma unroll
                for (int j = 0; j < NT; ++j) {
#pragma unroll
                    for (int e = 0; e < 2; ++e) {
                        const int64_t n = colBase + j * 8 + e;
                        const int c = h * 2 + e;
                        const float sn = n < N ? weightScale[n] : 0.0f;
                        dacc[i][j][c] = mulRn(mulRn(__int2float_rn(acc[i][j][c]), st), sn);
                        if (accOut != nullptr && r < T && n < N)
                            accOut[r * N + n] = acc[i][j][c];
                    }
                }
            }
        }
    }

    // DABC: sum_m r[t, m] * wm[n, m] on bf16 tensor cores (float32 accumulation), 64 masked
    // columns a chunk.
    if (Mk > 0) {
        // Chunk q in slot q % 2; chunk 0 was fetched at the start (and waited for with the
        // pipeline), chunk q + 1 is fetched while chunk q is multiplied.
        const int chunks = static_cast<int>(ld / kDabcCols);
        for (int q = 0; q < chunks; ++q) {
            if (q + 1 < chunks)
                loadDabc((q + 1) & 1, (q + 1) * kDabcCols);
            cpAsyncCommit();
            cpAsyncWait<1>();
            __syncthreads(); // chunk q landed for every thread
            const uint32_t sd = smemBase + C::DABC_OFF + (q & 1) * C::DABC_BYTES;
#pragma unroll
            for (int u = kg; u < kDabcCols / 16; u += C::KSPLIT) { // k16 step: bytes 32u .. 32u + 31
                uint32_t af[MT][4];
#pragma unroll
                for (int i = 0; i < MT; ++i)
                    ldmatrixX4(sd + (aRow + i * 16) * kDabcStride + u * 32 + aByte, af[i][0], af[i][1], af[i][2],
                               af[i][3]);
#pragma unroll
                for (int j = 0; j < NT; j += 2) {
                    uint32_t r0, r1, r2, r3; // b0, b1 of tile j; b0, b1 of tile j+1
                    ldmatrixX4(sd + (bRow + j * 8) * kDabcStride + u * 32 + bByte, r0, r1, r2, r3);
#pragma unroll
                    for (int i = 0; i < MT; ++i) {
                        mmaBf16(dacc[i][j], af[i], r0, r1);
                        mmaBf16(dacc[i][j + 1], af[i], r2, r3);
                    }
                }
            }
            __syncthreads(); // slot q % 2 is free for chunk q + 2
        }
        if constexpr (C::KSPLIT > 1) {
            float* red = reinterpret_cast<float*>(smem);
            if (kg > 0) {
                float* dst = red + ((kg - 1) * (C::WARPS_M * C::WARPS_N) + wmn) * NREG * 32;
#pragma unroll
                for (int i = 0; i < MT; ++i)
#pragma unroll
                    for (int j = 0; j < NT; ++j)
#pragma unroll
                        for (int c = 0; c < 4; ++c)
                            dst[((i * NT + j) * 4 + c) * 32 + lane] = dacc[i][j][c];
            }
            __syncthreads();
            if (kg == 0) {
#pragma unroll
                for (int q = 1; q < C::KSPLIT; ++q) {
                    const float* src = red + ((q - 1) * (C::WARPS_M * C::WARPS_N) + wmn) * NREG * 32;
#pragma unroll
                    for (int i = 0; i < MT; ++i)
#pragma unroll
                        for (int j = 0; j < NT; ++j)
#pragma unroll
                            for (int c = 0; c < 4; ++c)
                                dacc[i][j][c] = addRn(dacc[i][j][c], src[((i * NT + j) * 4 + c) * 32 + lane]);
                }
            }
        }
    }

    if (kg != 0)
        return;
#pragma unroll
    for (int i = 0; i < MT; ++i) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int64_t r = rowBase + i * 16 + h * 8;
            if (r >= T)
                continue;
#pragma unroll
            for (int j = 0; j < NT; ++j) {
                const int64_t n0 = colBase + j * 8; // this thread's two adjacent columns n0, n0 + 1
                uint16_t out[2] = {0, 0};
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int64_t n = n0 + e;
                    if (n >= N)
                        continue;
                    const int c = h * 2 + e;
                    float v = dacc[i][j][c];
                    if (bias != nullptr)
                        v = addRn(v, bf16ToFloat(bias[n]));
                    out[e] = floatToBf16(v);
                }
                uint16_t* dst = y + r * N + n0;
                if (n0 + 1 < N && (reinterpret_cast<uintptr_t>(dst) & 3u) == 0) {
                    *reinterpret_cast<uint32_t*>(dst) = static_cast<uint32_t>(out[0]) | (static_cast<uint32_t>(out[1]) << 16);
                } else {
                    if (n0 < N)
                        dst[0] = out[0];
                    if (n0 + 1 < N)
                        dst[1] = out[1];
                }
            }
        }
    }
}

template <class C>
void launchW4a4(const uint8_t* aPacked, const float* tokenScale, const uint8_t* wPacked, const float* weightScale,
                const uint16_t* residual, const uint16_t* wMasked, int Mk, const uint16_t* bias, int64_t T,
                int64_t N, int64_t K, uint16_t* y, int32_t* acc, cudaStream_t stream)
{
    // Above 48 KiB of dynamic shared memory the kernel must opt in; the attribute is per device,
    // so it is set on every call (cheap, no synchronization).
    if constexpr (C::SMEM > 48 * 1024)
        checkCall(cudaFuncSetAttribute(w4a4Kernel<C>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM),
                  "w4a4Linear: cudaFuncSetAttribute");
    const dim3 grid(static_cast<unsigned>((N + C::BN - 1) / C::BN), static_cast<unsigned>((T + C::BM - 1) / C::BM));
    if (grid.y > 65535u)
        throw Error("w4a4Linear: T too large for the grid (" + std::to_string(T) + ")");
    w4a4Kernel<C><<<grid, C::THREADS, C::SMEM, stream>>>(aPacked, tokenScale, wPacked, weightScale, residual,
                                                         wMasked, Mk, bias, T, N, K, y, acc);
    checkLaunch("w4a4Linear: kernel launch");
}

int multiprocessorCount()
{
    int dev = 0, sms = 0;
    checkCall(cudaGetDevice(&dev), "w4a4Linear: cudaGetDevice");
    checkCall(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "w4a4Linear: cudaDeviceGetAttribute");
    return sms;
}

bool aligned16(const void* p)
{
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

} // namespace

void quantizeActivations(const uint16_t* xBf16, int64_t T, int64_t K, const float* channelScale,
                         const int32_t* maskedIndex, int Mk, float rho, uint8_t* aPacked, float* tokenScale,
                         uint16_t* residualBf16, void* stream)
{
    if (T < 0 || K < 0 || Mk < 0)
        throw Error("quantizeActivations: negative size");
    if (K % 64 != 0)
        throw Error("quantizeActivations: K must be a multiple of 64 (got " + std::to_string(K) + ")");
    if (Mk > 0 && (maskedIndex == nullptr || residualBf16 == nullptr))
        throw Error("quantizeActivations: Mk > 0 needs maskedIndex and residual");
    if ((reinterpret_cast<uintptr_t>(xBf16) & 3u) != 0)
        throw Error("quantizeActivations: x must be 4-byte aligned");
    if (T == 0 || K == 0)
        return;
    if (T > 0x7fffffff)
        throw Error("quantizeActivations: T too large");
    quantizeKernel<<<static_cast<unsigned>(T), kQuantThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        xBf16, K, channelScale, maskedIndex, Mk, rho, aPacked, tokenScale, residualBf16);
    checkLaunch("quantizeActivations: kernel launch");
}

void w4a4Linear(const uint8_t* aPacked, const float* tokenScale, const uint8_t* wPacked, const float* weightScale,
                const uint16_t* residualBf16, const uint16_t* wMaskedBf16, int Mk, const uint16_t* biasBf16,
                int64_t T, int64_t N, int64_t K, uint16_t* yBf16, int32_t* acc, void* stream, W4a4Tile tile)
{
    if (T < 0 || N < 0 || K < 0 || Mk < 0)
        throw Error("w4a4Linear: negative size");
    if (K % 64 != 0)
        throw Error("w4a4Linear: K must be a multiple of 64 (got " + std::to_string(K) + ")");
    if (K > 131072)
        throw Error("w4a4Linear: K above 131072 would overflow the int32 tensor-core sums");
    if (Mk > 0 && (residualBf16 == nullptr || wMaskedBf16 == nullptr))
        throw Error("w4a4Linear: Mk > 0 needs residual and wMasked");
    if (Mk > 0 && (!aligned16(residualBf16) || !aligned16(wMaskedBf16)))
        throw Error("w4a4Linear: residual and wMasked must be 16-byte aligned");
    if (!aligned16(aPacked) || !aligned16(wPacked))
        throw Error("w4a4Linear: packed a and w must be 16-byte aligned");
    if (T == 0 || N == 0)
        return;
    const cudaStream_t s = static_cast<cudaStream_t>(stream);
#define MQ_W4A4_LAUNCH(CFG)                                                                                           \
    launchW4a4<CFG>(aPacked, tokenScale, wPacked, weightScale, residualBf16, wMaskedBf16, Mk, biasBf16, T, N, K, yBf16, \
                    acc, s)
    switch (tile) {
    case W4a4Tile::Small: MQ_W4A4_LAUNCH(CfgSmall); return;
    case W4a4Tile::Mid: MQ_W4A4_LAUNCH(CfgMid); return;
    case W4a4Tile::Large: MQ_W4A4_LAUNCH(CfgLarge); return;
    case W4a4Tile::Wide: MQ_W4A4_LAUNCH(CfgWide); return;
    case W4a4Tile::Tall: MQ_W4A4_LAUNCH(CfgTall); return;
    case W4a4Tile::Large16: MQ_W4A4_LAUNCH(CfgLarge16); return;
    case W4a4Tile::Wide16: MQ_W4A4_LAUNCH(CfgWide16); return;
    case W4a4Tile::WideK: MQ_W4A4_LAUNCH(CfgWideK); return;
    case W4a4Tile::Auto: break;
    }
    if (T <= 16) {
        MQ_W4A4_LAUNCH(CfgSmall);
        return;
    }
    // By the H200 measurements in bench/README.md: the 128 x 256 tiles in stages of 256 columns
    // (twice the MMAs per unpacked fragment, half the barriers) once they make at least one and
    // a half waves of blocks; below that the 128 x 128 tiles of 16 warps while they fill every
    // multiprocessor; then 64 x 64.
    const auto blocks = [&](int bm, int bn) { return ((T + bm - 1) / bm) * ((N + bn - 1) / bn); };
    const int64_t sms = multiprocessorCount();
    if (2 * blocks(CfgWideK::BM, CfgWideK::BN) >= 3 * sms)
        MQ_W4A4_LAUNCH(CfgWideK);
    else if (blocks(CfgLarge16::BM, CfgLarge16::BN) >= sms)
        MQ_W4A4_LAUNCH(CfgLarge16);
    else
        MQ_W4A4_LAUNCH(CfgMid);
#undef MQ_W4A4_LAUNCH
}

} // namespace mq::cuda
