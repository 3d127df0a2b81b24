#pragma once
// Streaming statistics of one Linear input, one per input channel (no libtorch: widgets use
// these). Values are accumulated over tokens (rows of X [T, K]).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/quant_settings.h"

namespace mq::core {

enum class Modality : int { Text = 0, Image = 1, Video = 2, Audio = 3 };
constexpr int kNumModalities = 4;
const char* modalityName(Modality m);        // "text", "image", "video", "audio"
bool parseModality(const std::string& s, Modality* out);

// Histogram of |x| per channel on log2 bins: bin b holds |x| in [2^(b+kHistMinExp), 2^(b+1+kHistMinExp)),
// bin 0 also everything smaller (zero included), the last bin everything larger.
constexpr int kHistBins = 40;
constexpr int kHistMinExp = -24;
double histBinLower(int bin); // lower edge of a bin (0 for bin 0)
int histBin(float absValue);  // the bin of a value

// accumulate() sums a call's rows in chunks of this many: each chunk's sums of |x| and x^2 start
// at 0 and add its rows in row order, the call's sums add the chunks' in chunk order, and the
// totals add the call's. A fixed size, not the thread count, so that the bits are the same at
// any thread count, while two threads can share the rows of a narrow input (where a split of its
// channels would leave one thread idle). Rounding stays float64's, with shorter running sums.
constexpr int64_t kStatsChunkRows = 240;

struct ChannelStats {
    int64_t channels = 0;
    int64_t count = 0;            // tokens accumulated
    std::vector<float> min, max;  // [K]
    std::vector<double> sumAbs;   // [K] sum over tokens of |x|
    std::vector<double> sumSq;    // [K] sum over tokens of x^2
    std::vector<uint32_t> hist;   // [K * kHistBins], row-major by channel

    void reset(int64_t k);
    bool empty() const { return count == 0; }
    // Adds rows of a row-major float32 matrix [rows, channels]. Throws InputError on NaN/Inf
    // (naming `what`) so bad calibration data is caught at its source.
    // With `make`, x is not yet computed: make(r0, r1) computes its rows r0..r1-1, once for each
    // chunk of kStatsChunkRows rows, just before the pass reads them, on the thread that reads
    // them (ForwardHook::observeAsMade), so that a narrow input's rows are read from the cache
    // of the core that wrote them. The same statistics, bit for bit, as without it.
    using RowMaker = std::function<void(int64_t r0, int64_t r1)>;
    void accumulate(const float* x, int64_t rows, const std::string& what, const RowMaker& make = {});
    void merge(const ChannelStats& other); // other must have the same channel count

    double meanAbs(int64_t c) const { return count ? sumAbs[c] / double(count) : 0.0; }
    double absMax(int64_t c) const;
};

// The statistics pass's kernel (calib/stats_kernels.cpp): one per instruction set, all giving
// the same bits. By default the fastest the CPU runs: AVX-512 with VBMI, AVX-512, AVX2 with FMA,
// else the scalar one. setStatsKernel (tests, benchmarks) returns false for a kernel the CPU
// cannot run; parseStatsKernel reads statsKernelName's names.
enum class StatsKernel : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Vbmi = 3 };
constexpr StatsKernel kStatsKernels[] = {StatsKernel::Scalar, StatsKernel::Avx2, StatsKernel::Avx512,
                                         StatsKernel::Vbmi};
StatsKernel statsKernel();
bool setStatsKernel(StatsKernel kernel);
const char* statsKernelName(StatsKernel kernel); // "scalar", "avx2", "avx512", "avx512-vbmi"
bool parseStatsKernel(const std::string& name, StatsKernel* out);

// D_c for every channel (DESIGN.md): Paper |max-min| / log(sum|x| + eps), eps = 1e-5;
// Code |max-min| / log(1 + mean|x| + 1e-5).
std::vector<double> dispersionScores(const ChannelStats& s, DispersionForm form);

// Tukey's box of a sample: quartiles by linear interpolation between order statistics (numpy's
// default), whiskers at the furthest values within 1.5 IQR of the box, the values beyond them
// as outliers. An empty sample gives zeros.
struct BoxSummary {
    double lowerWhisker = 0, q1 = 0, median = 0, q3 = 0, upperWhisker = 0;
    std::vector<double> outliers;
};
BoxSummary boxSummary(std::vector<double> sample);

} // namespace mq::core
