#pragma once
// The GPU kernels (issue 12), behind plain C++ entry points: no CUDA header is seen outside
// core/cuda/*.cu. Every pointer an entry point takes is device memory unless its comment says
// host; `stream` is a cudaStream_t (nullptr: the legacy default stream). Entry points launch
// asynchronously on the stream and throw mq::cuda::Error on a launch or allocation failure.
//
// Each kernel has a CPU reference with the same arithmetic in reference.h (plain C++, built in
// every configuration); tests/tst_cuda_reference.cpp checks those references against the
// engine's own CPU code, and cuda_selftest (selftest.cpp) checks each kernel against its
// reference on a GPU, exiting 77 (skipped) where none is present.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mq::cuda {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---- the device -------------------------------------------------------------------------
struct DeviceInfo {
    bool available = false;  // a usable GPU is present (and the kernels were built)
    std::string reason;      // why not, when not available
    std::string name;        // e.g. "NVIDIA H200"
    int sm = 0;              // compute capability, major * 10 + minor
    int multiprocessors = 0;
    double memoryGiB = 0.0;
    double peakBandwidthGBs = 0.0; // from the memory clock and bus width (0 where CUDA 13 no longer reports them)
};
bool built();          // false in a build without MQ_WITH_CUDA (every other entry point then throws)
DeviceInfo probe();    // never throws

// Device memory owned by one object (cudaMalloc / cudaFree).
class Buffer {
public:
    Buffer() = default;
    explicit Buffer(size_t bytes);
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    void* get() const { return ptr_; }
    template <typename T> T* as() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }
    void upload(const void* host, size_t bytes, size_t offset = 0);          // synchronous
    void download(void* host, size_t bytes, size_t offset = 0) const;        // synchronous
    void zero();

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};
void synchronize();    // cudaDeviceSynchronize, throwing on a pending kernel error

// Events for timing (benchmarks): milliseconds between two points on a stream.
class Timer {
public:
    Timer();
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    void start(void* stream = nullptr);
    double stopMs(void* stream = nullptr); // synchronizes with the stop event
private:
    void* a_ = nullptr;
    void* b_ = nullptr;
};

// ---- 1. per-channel statistics of a Linear input, per modality --------------------------
// The arithmetic of mq::core::ChannelStats::accumulate for each modality's rows: min, max, sum
// of |x| and of x^2 in float64, count of rows, and the 40-bin log2 histogram of |x| (bin from
// the IEEE exponent, as mq::core::histBin). One pass over x.
constexpr int kHistBins = 40;
constexpr int kHistMinExp = -24;
constexpr int kMaxModalities = 4;
struct StatsOut {
    float* min = nullptr;            // [M, K], start at +inf (statsReset)
    float* max = nullptr;            // [M, K], start at -inf
    double* sumAbs = nullptr;        // [M, K]
    double* sumSq = nullptr;         // [M, K]
    uint32_t* hist = nullptr;        // [M, K, kHistBins]
    unsigned long long* count = nullptr;     // [M] rows
    unsigned long long* nonFinite = nullptr; // [1] elements that were NaN or +-Inf (not added to the sums)
};
// Sets the accumulators to their empty values (min +inf, max -inf, the rest 0).
void statsReset(const StatsOut& out, int64_t K, int numModalities, void* stream = nullptr);
// x [rows, K] float32 row-major; modality [rows] in 0..numModalities-1 (nullptr: every row is
// modality 0). Adds into `out`. Sums are float64 atomics, so their order (and last bits) differ
// from the CPU's (chunks of rows, each in row order); min, max, counts and histograms are exact.
void channelStats(const float* x, const uint8_t* modality, int64_t rows, int64_t K, int numModalities,
                  const StatsOut& out, void* stream = nullptr);

// ---- 2. MDQFO grid scoring --------------------------------------------------------------
// The arithmetic of mq::core::gridScoresCpu: for every ratio r_j and channel c, with
// alpha = float(alpha0_c * r_j), s = max(alpha / qmax, 1e-12), q = clamp(rne(clamp(x / s,
// +-qmax)) * s, +-alpha) and the DABC compensation of masked channels (elements above rho *
// alpha kept; all of them at rho 0), score(j, c) = mean_t |x - x_hat|^p + lambdaCos * (1 -
// mean_t cos(x_t, x_hat_t)). The exact-power shortcuts of the CPU kernel (p = 1, 2, 3, 4, 0.5
// in float64; other p through powf) are the same.
struct GridParams {
    int abits = 4;
    double rho = 0.0;
    double p = 2.0;
    double lambdaCos = 0.0;
};
// Device workspace the call needs (float64 partial sums).
size_t gridScoresWorkspaceBytes(int64_t T, int64_t K, int numRatios);
// x [T, K] float32; alpha0, mask [K] float32 (mask 0/1); ratios [n] float64 on the host;
// scores [n, K] float32; workspace of gridScoresWorkspaceBytes.
void gridScores(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask,
                const double* hostRatios, int numRatios, const GridParams& params, float* scores,
                void* workspace, void* stream = nullptr);

// ---- 3. NVFP4 and MXFP4 for the simulated path ------------------------------------------
// The arithmetic of mq::core::fmt (FORMATS.md) element by element. Codes are E2M1 nibbles
// packed two per byte, the first element in the low nibble; scales one byte per block.
// absMax: the largest finite |x| of n values into *out (one float); NVFP4's global scale is
// then 448 * 6 / amax (fmt::nvfp4GlobalScale) on the host.
void absMax(const float* x, int64_t n, float* out, void* stream = nullptr);
// NVFP4: cols a multiple of 16; scales [rows * cols / 16] E4M3 bytes; globalScale > 0.
void nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float globalScale, uint8_t* packedCodes,
                   uint8_t* scales, void* stream = nullptr);
void nvfp4Dequantize(const uint8_t* packedCodes, const uint8_t* scales, int64_t rows, int64_t cols,
                     float globalScale, float* out, void* stream = nullptr);
// MXFP4: cols a multiple of 32; scales [rows * cols / 32] E8M0 bytes; evenRule: the
// compressed-tensors rule (fmt::MxRule::Even) instead of the OCP floor.
void mxfp4Quantize(const float* x, int64_t rows, int64_t cols, bool evenRule, uint8_t* packedCodes,
                   uint8_t* scales, void* stream = nullptr);
void mxfp4Dequantize(const uint8_t* packedCodes, const uint8_t* scales, int64_t rows, int64_t cols,
                     float* out, void* stream = nullptr);
// Quantize then dequantize in one pass (the simulated path): out may equal x.
void nvfp4FakeQuant(const float* x, int64_t rows, int64_t cols, float globalScale, float* out, void* stream = nullptr);
void mxfp4FakeQuant(const float* x, int64_t rows, int64_t cols, bool evenRule, float* out, void* stream = nullptr);

// ---- 4. the fused W4A4 + DABC linear ----------------------------------------------------
// y = (s_t * s_n) * sum_k a_tk w_nk  +  sum_{m in masked} r_tm * wm_nm  (+ bias_n), in bf16.
// Weights: signed int4 w in [-8, 7], [N, K] packed two per byte along K (the first in the
// low nibble, two's complement nibbles), one float scale per output channel s_n. Static
// per-channel activation scales are folded into the weights before they are quantized
// (W'[n, c] = W[n, c] * sx_c), so the kernel always sees integer activations times one scale
// per token (1 for the static form).
// Activations: int4 a in [-7, 7] packed the same way, [T, K], scale s_t per token.
// DABC: r [T, ld] bf16 holds x - x_hat for the Mk masked channels (the rest is exactly 0);
// wm [N, ld] bf16 the dequantized weight columns of those channels (W_Q[:, masked]). Both are
// stored with the leading dimension ld = dabcStride(Mk) (Mk rounded up to 64), columns Mk..ld-1
// zero (quantizeActivations writes them so; the caller zero-pads wm), 16-byte aligned: the
// kernel then copies whole 128-byte rows with cp.async.
// K a multiple of 64; Mk may be 0 (r and wm unused).
//
// quantizeActivations: x [T, K] bf16 (as uint16_t bits) to a, s_t and r.
//   channelScale == nullptr: per-token dynamic, s_t = max_k |x_tk| / 7 (1e-12 at the least),
//     a = clamp(rne(x / s_t), +-7).
//   channelScale [K] float32: static, a = clamp(rne(x / sx_k), +-7), s_t = 1.
//   maskedIndex [Mk] int32 (ascending channel indices): r_tm = x_tc - a_tc * (s_t or sx_c) for
//     c = maskedIndex[m] where |x_tc| > rho * (7 * sx_c or 7 * s_t), else 0 (rho 0: always), in bf16,
//     in rows of dabcStride(Mk) whose tail is written with zeros.
constexpr int dabcStride(int Mk) { return (Mk + 63) / 64 * 64; }
void quantizeActivations(const uint16_t* xBf16, int64_t T, int64_t K, const float* channelScale,
                         const int32_t* maskedIndex, int Mk, float rho, uint8_t* aPacked, float* tokenScale,
                         uint16_t* residualBf16, void* stream = nullptr);
// The product. acc (optional, [T, N] int32) receives the integer sums for tests. tile: the
// block tiling, chosen by T and N (Auto) or forced (tests and bench_cuda --tile compare them;
// every one computes the same integers and the same y up to the float32 summation order).
enum class W4a4Tile { Auto, Small, Mid, Large, Wide, Tall, Large16, Wide16, WideK };
void w4a4Linear(const uint8_t* aPacked, const float* tokenScale, const uint8_t* wPacked, const float* weightScale,
                const uint16_t* residualBf16, const uint16_t* wMaskedBf16, int Mk, const uint16_t* biasBf16,
                int64_t T, int64_t N, int64_t K, uint16_t* yBf16, int32_t* acc = nullptr, void* stream = nullptr,
                W4a4Tile tile = W4a4Tile::Auto);

} // namespace mq::cuda
